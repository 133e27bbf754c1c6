"""Everything that touches yt-dlp: importing it, its options, search strings and its errors.

yt-dlp is an optional extra, imported only when a scrape runs, so the rest of framepred (and
``framepred --help``) works without it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

from framepred.errors import UsageError

log = logging.getLogger("framepred.scrape")

# One file holding video (audio is of no use to frame prediction), at most 720p so a data set of
# small frames does not pull 4K streams; the later alternatives take whatever there is.
DEFAULT_FORMAT = "bv*[height<=?720]/b[height<=?720]/bv*/b"

# yt-dlp's search prefixes by site, as in ``ytsearch10:basketball``.
SEARCH_PREFIXES = {"youtube": "ytsearch", "youtube-date": "ytsearchdate"}


def load_yt_dlp() -> ModuleType:
    """Import yt-dlp, or say how to install it."""
    try:
        import yt_dlp
    except ImportError as err:
        raise UsageError('framepred scrape needs yt-dlp: pip install "framepred[scrape]"') from err
    return yt_dlp


def search_url(query: str, max_results: int, site: str = "youtube") -> str:
    """The yt-dlp search string for ``query``: ``ytsearchN:QUERY`` (no network involved)."""
    query = " ".join(query.split())
    if not query:
        raise UsageError("--search needs a non-empty query")
    if max_results < 1:
        raise UsageError(f"the number of search results must be at least 1, got {max_results}")
    if site not in SEARCH_PREFIXES:
        raise UsageError(f"unknown search site {site!r}; choose from {', '.join(SEARCH_PREFIXES)}")
    return f"{SEARCH_PREFIXES[site]}{max_results}:{query}"


def backoff_delays(backoff: float, cap: float = 60.0) -> Callable[[int], float]:
    """Seconds to wait before retry ``n`` (0-based): backoff, 2*backoff, 4*backoff, ... capped."""

    def delay(n: int) -> float:
        return min(cap, backoff * (2**n))

    return delay


class _QuietLogger:
    """Routes yt-dlp's chatter to framepred's logger instead of the terminal.

    Errors are not printed here: yt-dlp raises them as exceptions too, and the scrape summary
    reports them once per video.
    """

    def debug(self, msg: str) -> None:
        log.debug("yt-dlp: %s", msg)

    def info(self, msg: str) -> None:
        log.debug("yt-dlp: %s", msg)

    def warning(self, msg: str) -> None:
        log.info("yt-dlp: %s", msg)

    def error(self, msg: str) -> None:
        log.debug("yt-dlp: %s", msg)


def downloader_params(
    download_dir: Path,
    *,
    timeout: float,
    retries: int,
    backoff: float,
    rate_limit: int | None,
    video_format: str,
    progress_hook: Callable[[dict[str, Any]], None],
) -> dict[str, Any]:
    """The YoutubeDL options of one scrape run (pure; the tests read them)."""
    import imageio_ffmpeg

    delay = backoff_delays(backoff)
    return {
        "quiet": True,
        "no_warnings": True,
        "noprogress": True,
        "color": "no_color",
        "logger": _QuietLogger(),
        # The file name inside our private temp folder is fixed: nothing from the server becomes a path.
        "outtmpl": {"default": str(download_dir / "video.%(ext)s")},
        "overwrites": True,
        "format": video_format,
        "socket_timeout": timeout,
        "retries": retries,
        "fragment_retries": retries,
        "extractor_retries": retries,
        "retry_sleep_functions": {"http": delay, "fragment": delay, "extractor": delay},
        "ratelimit": rate_limit,
        "progress_hooks": [progress_hook],
        # HLS/DASH downloads and any merge need ffmpeg; use the one framepred already depends on.
        "ffmpeg_location": imageio_ffmpeg.get_ffmpeg_exe(),
        "noplaylist": True,
    }


def causes(err: BaseException) -> Iterator[BaseException]:
    """``err`` and what it wraps: yt-dlp keeps the root cause in ``exc_info`` or ``cause``."""
    seen: set[int] = set()
    todo = [err]
    while todo:
        current = todo.pop(0)
        if current is None or id(current) in seen or not isinstance(current, BaseException):
            continue
        seen.add(id(current))
        yield current
        exc_info = getattr(current, "exc_info", None)
        if isinstance(exc_info, tuple) and len(exc_info) > 1:
            todo.append(exc_info[1])
        todo += [getattr(current, "cause", None), current.__cause__, current.__context__]


def is_transient(err: BaseException) -> bool:
    """True for failures worth retrying: timeouts, dropped connections, HTTP 429 and 5xx."""
    from yt_dlp.networking.exceptions import HTTPError, TransportError

    for cause in causes(err):
        if isinstance(cause, HTTPError):
            return cause.status == 429 or cause.status >= 500
        if isinstance(cause, (TransportError, TimeoutError, ConnectionError)):
            return True
    return False


def error_message(err: BaseException) -> str:
    """yt-dlp's error as one short line: no ``ERROR:`` prefix, no "caused by", no bug-report advice."""
    # yt-dlp's progress-line messages start with "\r" and may carry colour codes.
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(err)).replace("\r", "")
    text = re.sub(r"^ERROR:\s*", "", text.strip())
    text = next((line.strip() for line in text.splitlines() if line.strip()), type(err).__name__)
    text = re.sub(r"\s*\(caused by .*$", "", text)
    text = re.sub(r";\s*please report this issue.*$", "", text)
    return text
