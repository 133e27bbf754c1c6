"""Plain HTTP(S) downloads of weight files: resumable, time-limited, checked, never half-written.

:func:`http_download` fetches a URL into a ``.part`` file, resuming from the bytes already there when
the server honours ``Range`` requests (within one call after a cut connection, and across calls after
an interrupted run). The result is refused, and the partial file removed, when the server sends an
HTML page (a login, quota or error page) instead of the file, when fewer or more bytes arrive than
it announced, or when the SHA-256 differs from the expected one. The caller moves the finished file
to its final name, so a reader never sees an incomplete file there.

Connections time out (5 s to connect, 30 s between bytes by default; ``FRAMEPRED_DOWNLOAD_TIMEOUT``
sets both), so a machine without network fails in seconds instead of hanging.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import socket
import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from framepred.errors import CheckpointError, WeightsMissingError

ProgressFn = Callable[[int, "int | None"], None]

CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 30.0
CHUNK = 1 << 16
_HTML_STARTS = (b"<!doctype html", b"<html", b"<?xml", b"<head", b"<body")


def download_timeout() -> float:
    """Seconds to wait for a connection or for the next bytes (``FRAMEPRED_DOWNLOAD_TIMEOUT``)."""
    value = os.environ.get("FRAMEPRED_DOWNLOAD_TIMEOUT")
    if not value:
        return READ_TIMEOUT
    try:
        seconds = float(value)
    except ValueError:
        raise WeightsMissingError(
            f"FRAMEPRED_DOWNLOAD_TIMEOUT={value!r} is not a number of seconds; set e.g. 30"
        ) from None
    if seconds <= 0:
        raise WeightsMissingError(f"FRAMEPRED_DOWNLOAD_TIMEOUT must be positive, got {value}")
    return seconds


def looks_like_html(path: Path) -> bool:
    """True when a file starts like an HTML/XML page (what file hosts send instead of a refused file)."""
    with open(path, "rb") as handle:
        head = handle.read(512).lstrip().lower()
    return head.startswith(_HTML_STARTS)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class _Cut(Exception):
    """The connection ended early; the bytes received so far are kept for a resume."""


def http_download(
    url: str,
    part: Path,
    *,
    what: str,
    fix: str,
    expected_sha256: str | None = None,
    retries: int = 3,
    timeout: float | None = None,
    progress: ProgressFn | None = None,
    on_connect: Callable[[], None] | None = None,
) -> str:
    """Download ``url`` into ``part`` (resuming what is already there); return the file's SHA-256.

    ``what`` names the file in messages and ``fix`` says what the user can do instead (e.g. where to
    put a file downloaded by hand); ``on_connect`` is called once the server has answered (so a
    "downloading ..." notice never precedes a failure to connect). A cut connection is resumed up to
    ``retries`` times; if it still fails, the partial file is kept for the next call and
    :class:`WeightsMissingError` is raised.
    Wrong content (HTML, wrong size, wrong SHA-256) removes the partial file and raises
    :class:`CheckpointError`.
    """
    timeout = download_timeout() if timeout is None else timeout
    part.parent.mkdir(parents=True, exist_ok=True)
    _forget_other_url(part, url)
    attempts = 0
    while True:
        try:
            total = _fetch_once(
                url, part, min(timeout, CONNECT_TIMEOUT), timeout, progress, what, fix, on_connect
            )
            break
        except _Cut as cut:
            attempts += 1
            if attempts > retries:
                raise WeightsMissingError(
                    f"{what}: the download from {url} was cut {attempts} times ({cut}); "
                    f"{part.stat().st_size if part.exists() else 0} bytes are kept in {part} and the same "
                    f"command resumes from there; or {fix}"
                ) from None
    size = part.stat().st_size
    if total is not None and size != total:
        _discard(part)
        raise CheckpointError(
            f"{what}: {url} announced {total} bytes but sent {size}; nothing was kept; try again, or {fix}"
        )
    if looks_like_html(part):
        _discard(part)
        raise CheckpointError(
            f"{what}: {url} answered with a web page, not the file (a quota, login or error page); "
            f"nothing was kept; {fix}"
        )
    digest = sha256_of(part)
    if expected_sha256 is not None and digest != expected_sha256.lower():
        _discard(part)
        raise CheckpointError(
            f"{what}: the file from {url} has SHA-256 {digest}, expected {expected_sha256.lower()}; "
            f"nothing was kept; check the mirror, or {fix}"
        )
    _meta(part).unlink(missing_ok=True)
    return digest


def _fetch_once(
    url: str,
    part: Path,
    connect_timeout: float,
    read_timeout: float,
    progress: ProgressFn | None,
    what: str,
    fix: str,
    on_connect: Callable[[], None] | None = None,
) -> int | None:
    """One request, appending to ``part``. Returns the full size the server announced, if it did."""
    offset = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"User-Agent": "framepred", "Accept-Encoding": "identity"})
    if offset:
        request.add_header("Range", f"bytes={offset}-")
    try:
        response = urllib.request.urlopen(request, timeout=connect_timeout)
    except urllib.error.HTTPError as error:
        if error.code == 416 and offset:  # the partial file is not a prefix of this file
            _discard(part)
            raise _Cut("the server refused to resume; starting again") from None
        raise WeightsMissingError(f"{what}: {url} answered HTTP {error.code} {error.reason}; {fix}") from None
    except (urllib.error.URLError, OSError, http.client.HTTPException) as error:
        reason = getattr(error, "reason", error)
        raise WeightsMissingError(f"{what}: cannot reach {url} ({reason}); {fix}") from None
    with response:
        if on_connect is not None:
            on_connect()
        _set_read_timeout(response, read_timeout)
        content_type = response.headers.get("Content-Type", "")
        if "text/html" in content_type.lower():
            _discard(part)
            raise CheckpointError(
                f"{what}: {url} answered with a web page ({content_type}), not the file; "
                f"nothing was kept; {fix}"
            )
        status = response.status
        if status == 206:
            start, total = _content_range(response.headers.get("Content-Range", ""))
            if start != offset:
                _discard(part)
                raise _Cut(f"the server resumed at byte {start}, not {offset}; starting again")
        else:  # 200: the whole file (the server ignores ranges); start from scratch
            offset = 0
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
        _write_meta(part, url)
        mode = "ab" if offset else "wb"
        done = offset
        with open(part, mode) as handle:
            if progress is not None:
                progress(done, total)
            while True:
                try:
                    block = response.read(CHUNK)
                except (OSError, http.client.HTTPException) as error:  # reset, timeout, IncompleteRead
                    raise _Cut(str(error) or type(error).__name__) from None
                if not block:
                    break
                handle.write(block)
                done += len(block)
                if progress is not None:
                    progress(done, total)
            handle.flush()
            os.fsync(handle.fileno())
        if total is not None and done < total:
            raise _Cut(f"{done} of {total} bytes arrived")
        return total


def _set_read_timeout(response: object, seconds: float) -> None:
    """urlopen's timeout covers the connection; give reads their own (longer) limit."""
    fp = getattr(response, "fp", None)
    raw = getattr(fp, "raw", None)
    sock = getattr(raw, "_sock", None)
    if isinstance(sock, socket.socket):
        sock.settimeout(seconds)


def _content_range(header: str) -> tuple[int, int | None]:
    # "bytes START-END/TOTAL" (TOTAL may be "*")
    try:
        span, total = header.split()[1].split("/")
        start = int(span.split("-")[0])
        return start, (int(total) if total != "*" else None)
    except (IndexError, ValueError):
        raise _Cut(f"unreadable Content-Range {header!r}; starting again") from None


def _meta(part: Path) -> Path:
    return part.with_name(part.name + ".json")


def _write_meta(part: Path, url: str) -> None:
    _meta(part).write_text(json.dumps({"url": url}), encoding="utf-8")


def _forget_other_url(part: Path, url: str) -> None:
    """A partial file from another URL is not a prefix of this one: drop it."""
    meta = _meta(part)
    if not part.exists():
        meta.unlink(missing_ok=True)
        return
    try:
        previous = json.loads(meta.read_text(encoding="utf-8")).get("url")
    except (OSError, ValueError):
        previous = None
    if previous != url:
        _discard(part)


def _discard(part: Path) -> None:
    part.unlink(missing_ok=True)
    _meta(part).unlink(missing_ok=True)


class TerminalProgress:
    """A rich download bar on stderr when it is a terminal; silent otherwise (callers print a line)."""

    def __init__(self, description: str) -> None:
        self.description = description
        self._bar = None
        self._task = None
        if sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                DownloadColumn,
                Progress,
                TimeRemainingColumn,
                TransferSpeedColumn,
            )

            self._bar = Progress(
                "[progress.description]{task.description}", BarColumn(), DownloadColumn(),
                TransferSpeedColumn(), TimeRemainingColumn(), console=Console(stderr=True), transient=True,
            )  # fmt: skip

    def __enter__(self) -> TerminalProgress:
        if self._bar is not None:
            self._bar.start()
            self._task = self._bar.add_task(self.description, total=None)
        return self

    def __call__(self, done: int, total: int | None) -> None:
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, completed=done, total=total)

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()
