"""``scrape``: web videos -> sequences of the canonical frame tree, one video at a time.

For each URL (or each result of a search) the steps are: read the metadata, skip what the archive
already has or what is outside the duration / size bounds, download into a hidden temp folder
inside OUT, decode frames with ffmpeg, write them as sequence(s), record the video in the manifest
and the archive. A failure ends that video only; the others go on and the summary lists it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from framepred.data.sharding import Shard, select
from framepred.errors import DataError, UsageError
from framepred.io.atomic import host_tag, writer_alive

from .frames import iter_frames, probe_video
from .manifest import video_contribution
from .names import archive_key, sequence_name
from .options import ScrapeOptions
from .records import Recorder, TaskRecorder
from .ytdlp import backoff_delays, downloader_params, error_message, is_transient, load_yt_dlp, search_url

T = TypeVar("T")

# A search asks for this many times --max-videos results, since some fall outside the duration
# bounds or fail; results are fetched lazily, so the extra ones cost nothing unless needed.
SEARCH_OVERSAMPLE = 3

# Hidden (tree readers skip it), with the owner's pid so a later run can tell a killed run's leftovers.
_DOWNLOAD_PREFIX = ".scrape-"


@dataclass
class ScrapeResult:
    """What happened to one video. ``status`` is "ok", "skipped" (with a reason) or "failed"."""

    url: str
    status: str
    reason: str = ""
    name: str | None = None
    title: str | None = None
    duration: float | None = None
    license: str | None = None
    frames: int = 0
    sequences: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class _Skip(Exception):
    """A video deliberately left out (too long, too large, too short, already there)."""


class _TooLarge(Exception):
    """Raised from yt-dlp's progress hook to stop a download over --max-filesize."""


def scrape(
    urls: Iterable[str] = (),
    *,
    out: str | Path,
    search: str | None = None,
    max_videos: int | None = None,
    search_site: str = "youtube",
    split: str = "train",
    max_duration: float | None = None,
    min_duration: float | None = None,
    fps: float | None = None,
    frames: int | None = None,
    chunk: bool = False,
    size: tuple[int, int] | None = None,
    archive: str | Path | None = None,
    timeout: float = 30.0,
    retries: int = 3,
    backoff: float = 2.0,
    max_filesize: int | None = ScrapeOptions.max_filesize,
    rate_limit: int | None = None,
    sleep: float = 1.0,
    video_format: str = ScrapeOptions.video_format,
    shard: Shard | None = None,
    on_result: Callable[[ScrapeResult], None] | None = None,
) -> list[ScrapeResult]:
    """Download videos and write them into the frame tree at ``out`` as ``<split>/<name>/``.

    urls: pages or direct links yt-dlp understands. search: a query for ``search_site`` (YouTube:
    ``ytsearchN:QUERY``). max_videos: stop after this many videos were written (default 10 with a
    search, unlimited otherwise). max_duration / min_duration: bounds in seconds, checked on the
    metadata before downloading when the site states a duration, else on the file. fps: frame rate
    to extract at (default: every frame). frames: keep the first K frames (videos with fewer are
    skipped); with chunk, cut each video into consecutive K-frame sequences instead. size: (width,
    height) to resize to. archive: download-archive file (default ``out/scrape_archive.txt``); videos
    in it are skipped. timeout: socket timeout in seconds. retries: retries of a timed-out or 429/5xx
    request, waiting backoff, 2*backoff, ... seconds. max_filesize: bytes; a larger download stops.
    rate_limit: bytes per second. sleep: seconds between videos. shard: task K of N of a job array:
    only every N-th URL from the K-th on, recorded for ``framepred prepare merge`` instead of in the
    manifest (not with a search, whose results can change between tasks, nor with max_videos, which
    counts across tasks). on_result: called with each result as it is known (for streaming output).
    Returns one result per video, in order.
    """
    options = ScrapeOptions(
        out=Path(out), split=split, max_duration=max_duration, min_duration=min_duration, fps=fps,
        frames=frames, chunk=chunk, size=size, archive=Path(archive) if archive is not None else None,
        timeout=timeout, retries=retries, backoff=backoff, max_filesize=max_filesize,
        rate_limit=rate_limit, sleep=sleep, video_format=video_format,
    )  # fmt: skip
    if shard is not None and search is not None:
        raise UsageError(
            "--shard splits a list of URLs; a search can answer each task differently: save its URLs "
            "(yt-dlp --flat-playlist --print webpage_url ...) and give them with --from-file"
        )
    if shard is not None and max_videos is not None:
        raise UsageError("--max-videos counts across the whole run, so it cannot be split with --shard")
    sources, max_videos = build_sources(urls, search, max_videos, search_site)
    positions = [i for i, mine in enumerate(select(shard, [1.0] * len(sources))) if mine]
    scraper = _Scraper(options, max_videos, on_result, shard, _agreed(options, sources))
    return scraper.run([sources[i] for i in positions], positions)


def _agreed(options: ScrapeOptions, sources: list[str]) -> dict[str, Any]:
    """What every task of a sharded scrape must share: the URLs and what decides their frames."""
    decisive = ("split", "max_duration", "min_duration", "fps", "frames", "chunk", "size", "max_filesize")
    return {"sources": sources, "archive": str(options.archive_path),
            **{name: getattr(options, name) for name in decisive}}  # fmt: skip


def build_sources(
    urls: Iterable[str], search: str | None, max_videos: int | None, search_site: str = "youtube"
) -> tuple[list[str], int | None]:
    """What yt-dlp is asked for: the URLs, then the search string; and the video cap (pure).

    A search defaults to 10 videos and asks for SEARCH_OVERSAMPLE times as many results.
    """
    sources = [url.strip() for url in urls if url and url.strip()]
    if max_videos is not None and max_videos < 1:
        raise UsageError(f"--max-videos must be >= 1, got {max_videos}")
    if search is not None:
        max_videos = max_videos or 10
        sources.append(search_url(search, max_videos * SEARCH_OVERSAMPLE, search_site))
    if not sources:
        raise UsageError("nothing to scrape: give URLs, --from-file FILE (or - for stdin), or --search QUERY")
    return sources, max_videos


class _Scraper:
    def __init__(
        self,
        options: ScrapeOptions,
        max_videos: int | None,
        on_result: Callable[[ScrapeResult], None] | None,
        shard: Shard | None = None,
        agreed: dict[str, Any] | None = None,
    ) -> None:
        self.yt_dlp = load_yt_dlp()
        self.options = options
        self.max_videos = max_videos
        self.on_result = on_result
        self.shard = shard
        self.agreed = agreed or {}
        self.position = 0  # of the source being scraped, in the whole URL list
        self.results: list[ScrapeResult] = []
        self.written = 0
        self.last_download_end: float | None = None
        self.retry_delay = backoff_delays(options.backoff)

    # -- the loop over sources and their videos ---------------------------------------------------

    def run(self, sources: list[str], positions: list[int]) -> list[ScrapeResult]:
        try:
            return self._run(sources, positions)
        except OSError as err:
            # Our own writes failed (disk full, no permission): no later video would fare better.
            message = f"{self.options.out}: cannot write there ({err}); free space or choose another -o"
            raise DataError(message) from err

    def _run(self, sources: list[str], positions: list[int]) -> list[ScrapeResult]:
        from framepred.data.tree import ensure_output_folder, remove_stale_partials

        ensure_output_folder(self.options.out)
        # Reads the manifest and the split's record: a broken manifest or a split made with other
        # options stops the run now, not after the first download.
        self.recorder = (
            Recorder(self.options)
            if self.shard is None
            else TaskRecorder(self.options, self.shard, self.agreed)
        )
        remove_stale_partials(self.options.out)
        _remove_stale_downloads(self.options.out)
        # The temp folder lives inside OUT (same file system, hidden from tree readers) and goes
        # away however the run ends, except a kill, which the next run cleans up above.
        prefix = f"{_DOWNLOAD_PREFIX}{os.getpid()}-{host_tag()}-"
        with tempfile.TemporaryDirectory(prefix=prefix, dir=self.options.out) as tmp:
            self.download_dir = Path(tmp)
            params = downloader_params(
                self.download_dir, timeout=self.options.timeout, retries=self.options.retries,
                backoff=self.options.backoff, rate_limit=self.options.rate_limit,
                video_format=self.options.video_format, progress_hook=self._size_guard,
            )  # fmt: skip
            with self.yt_dlp.YoutubeDL(params) as ydl:
                self.ydl = ydl
                for position, source in zip(positions, sources):
                    if self._enough():
                        break
                    self.position = position
                    self._scrape_source(source)
        self.recorder.finish()
        return self.results

    def _enough(self) -> bool:
        return self.max_videos is not None and self.written >= self.max_videos

    def _report(self, result: ScrapeResult) -> None:
        self.results.append(result)
        if result.status == "ok":
            self.written += 1
        if self.on_result is not None:
            self.on_result(result)

    def _scrape_source(self, source: str) -> None:
        if source.lower().startswith("file:") or Path(source).exists():
            # yt-dlp would refuse it advising "--enable-file-urls", an option framepred does not have.
            reason = (
                "a file on this machine, not a web address; use `framepred prepare videos` for local files"
            )
            self._report(ScrapeResult(url=source, status="failed", reason=reason))
            return
        self._polite_wait()
        try:
            top = self._retrying(lambda: self.ydl.extract_info(source, download=False, process=False))
            if top is None:
                raise DataError("yt-dlp found no video there")
            for entry in _flatten(top):
                if self._enough():
                    return
                for result in self._scrape_entry(entry, source):
                    self._report(result)
                    if self._enough():
                        return
        except (self.yt_dlp.utils.YoutubeDLError, DataError) as err:
            # The source itself failed (unreachable page, failed search): one failed result for it.
            self._report(ScrapeResult(url=source, status="failed", reason=_reason(err)))

    def _scrape_entry(self, entry: dict[str, Any], source: str) -> Iterator[ScrapeResult]:
        """Results for one entry: usually one video; more when it resolves to a playlist."""
        url = str(entry.get("webpage_url") or entry.get("url") or source)
        # A search result already states id and often duration: skip without any request.
        reason = self._precheck(entry)
        if reason:
            yield _skipped(url, entry, reason, sequence_name(entry) if archive_key(entry) else None)
            return
        self._polite_wait()
        try:
            info = self._retrying(lambda: self.ydl.process_ie_result(entry, download=False))
        except (self.yt_dlp.utils.YoutubeDLError, DataError) as err:
            yield ScrapeResult(url=url, status="failed", reason=_reason(err), title=entry.get("title"))
            return
        if info is None:
            yield ScrapeResult(url=url, status="failed", reason="yt-dlp found no video there")
            return
        if info.get("_type") in ("playlist", "multi_video"):
            for sub in _flatten(info):
                yield from self._scrape_entry(sub, url)
            return
        yield self._scrape_video(info, url)

    # -- one video ----------------------------------------------------------------------------------

    def _scrape_video(self, info: dict[str, Any], url: str) -> ScrapeResult:
        url = str(info.get("webpage_url") or url)
        name = sequence_name(info)
        duration = _number(info.get("duration"))
        try:
            reason = self._precheck(info) or self._size_problem(info) or self._exists(name)
            if reason:
                raise _Skip(reason)
            path = self._download(info)
            try:
                probe = probe_video(path)
            except DataError as err:
                raise DataError("the downloaded file is not a video ffmpeg can read") from err
            duration = duration or _number(probe.duration)
            reason = self.options.duration_problem(duration)
            if reason:
                raise _Skip(reason)
            sequences, counts = self._write_frames(path, name)
            contribution = video_contribution(self.options, info, sequences, counts, duration, probe.fps)
            self.recorder.video_done(self.position, contribution, archive_key(info))
        except _Skip as skip:
            return _skipped(url, info, str(skip), name, duration)
        except (self.yt_dlp.utils.YoutubeDLError, DataError, _TooLarge) as err:
            title = info.get("title")
            return ScrapeResult(url=url, status="failed", reason=_reason(err), name=name, title=title)
        finally:
            _empty(self.download_dir)
        return ScrapeResult(
            url=url, status="ok", name=name, title=info.get("title"), duration=duration,
            license=info.get("license"), frames=sum(counts),
            sequences=[str(self.options.out / self.options.split / seq) for seq in sequences],
        )  # fmt: skip

    def _precheck(self, info: dict[str, Any]) -> str | None:
        """Reasons to skip known from metadata alone: in the archive, duration out of bounds."""
        key = archive_key(info)
        if key is not None and self.recorder.has(key):
            return f"already in the archive {self.options.archive_path.name}"
        return self.options.duration_problem(_number(info.get("duration")))

    def _size_problem(self, info: dict[str, Any]) -> str | None:
        size = _number(info.get("filesize")) or _number(info.get("filesize_approx"))
        limit = self.options.max_filesize
        if size and limit and size > limit:
            return f"{size / 1024**2:.1f} MiB is over --max-filesize {limit / 1024**2:.1f} MiB"
        return None

    def _exists(self, name: str) -> str | None:
        split_dir = self.options.out / self.options.split
        if (split_dir / name).exists() or (split_dir / f"{name}-0000").exists():
            return f"{self.options.split}/{name} is already in {self.options.out}"
        return None

    def _download(self, info: dict[str, Any]) -> Path:
        _empty(self.download_dir)
        try:
            self.ydl.process_ie_result(info, download=True)
        except _TooLarge as err:
            raise _Skip(str(err)) from err
        finally:
            self.last_download_end = time.monotonic()
        files = [p for p in self.download_dir.iterdir() if p.is_file() and p.suffix not in (".part", ".ytdl")]
        if not files:
            raise DataError("the download produced no file")
        return max(files, key=lambda p: p.stat().st_size)

    def _size_guard(self, progress: dict[str, Any]) -> None:
        """yt-dlp progress hook: stop a download as soon as it is known to exceed --max-filesize.

        Checked on the announced total (Content-Length) and on the bytes so far, so a server that
        announces nothing is stopped too.
        """
        limit = self.options.max_filesize
        if limit is None:
            return
        size = max(progress.get("total_bytes") or 0, progress.get("downloaded_bytes") or 0)
        if size > limit:
            raise _TooLarge(f"download is over --max-filesize {limit / 1024**2:.1f} MiB")

    def _write_frames(self, path: Path, name: str) -> tuple[list[str], list[int]]:
        """Decode ``path`` into sequence(s) named after ``name``; returns their names and frame counts."""
        from framepred.data.tree import SequenceWriter

        options = self.options
        root, split, want = options.out, options.split, options.frames
        self.recorder.before_writing()
        if not options.chunk:
            frames = iter_frames(path, options.fps, options.size, limit=want)
            count = 0
            try:
                with SequenceWriter(root, split, name) as writer:
                    for frame in frames:
                        writer.write(frame)
                        count += 1
                    # Raising inside the writer discards the half-made sequence.
                    if count == 0:
                        raise DataError(f"{path.name} decoded to no frames")
                    if want is not None and count < want:
                        raise _Skip(f"only {count} frames, fewer than --frames {want}")
            finally:
                frames.close()
            return [name], [count]

        written: list[str] = []
        chunk: list = []
        frames = iter_frames(path, options.fps, options.size)
        try:
            for frame in frames:
                chunk.append(frame)
                if len(chunk) == want:
                    chunk_name = f"{name}-{len(written):04d}"
                    with SequenceWriter(root, split, chunk_name) as writer:
                        for kept in chunk:
                            writer.write(kept)
                    written.append(chunk_name)
                    chunk = []
            if not written:
                raise _Skip(f"only {len(chunk)} frames, fewer than one --frames {want} chunk")
        except BaseException:
            # A video is all or nothing: remove the chunks of a video that failed half-way.
            for chunk_name in written:
                shutil.rmtree(root / split / chunk_name, ignore_errors=True)
            raise
        finally:
            frames.close()
        return written, [want] * len(written)

    # -- politeness and retries ---------------------------------------------------------------------

    def _polite_wait(self) -> None:
        """Before a request: sleep until --sleep seconds have passed since the last download ended."""
        if self.last_download_end is not None:
            remaining = self.options.sleep - (time.monotonic() - self.last_download_end)
            if remaining > 0:
                time.sleep(remaining)

    def _retrying(self, call: Callable[[], T]) -> T:
        """Run a metadata request, retrying transient failures with exponential back-off.

        (Downloads are retried by yt-dlp itself, with the same counts and delays.)
        """
        for attempt in range(self.options.retries + 1):
            try:
                return call()
            except self.yt_dlp.utils.DownloadError as err:
                if attempt == self.options.retries or not is_transient(err):
                    raise
                time.sleep(self.retry_delay(attempt))
        raise AssertionError("unreachable")


def _remove_stale_downloads(out: Path) -> None:
    """Delete download folders of scrape runs that were killed (their process no longer exists).

    ``.scrape-PID-HOST-...``: folders of other machines (tasks of a job array) are left alone.
    """
    for folder in out.glob(f"{_DOWNLOAD_PREFIX}*"):
        fields = folder.name[len(_DOWNLOAD_PREFIX) :].split("-")
        host = fields[1] if len(fields) > 2 and len(fields[1]) == 8 else None
        if folder.is_dir() and fields[0].isdigit() and not writer_alive(int(fields[0]), host):
            shutil.rmtree(folder, ignore_errors=True)


def _flatten(result: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The video entries of a yt-dlp result: itself, or the (lazily fetched) entries of a playlist."""
    if result.get("_type") in ("playlist", "multi_video"):
        for entry in result.get("entries") or ():
            if entry:
                yield from _flatten(entry)
    else:
        yield result


def _skipped(
    url: str, info: dict[str, Any], reason: str, name: str | None = None, duration: float | None = None
) -> ScrapeResult:
    return ScrapeResult(
        url=url, status="skipped", reason=reason, name=name, title=info.get("title"),
        duration=duration or _number(info.get("duration")), license=info.get("license"),
    )  # fmt: skip


def _reason(err: BaseException) -> str:
    return error_message(err) if not isinstance(err, DataError) else str(err)


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and value > 0 else None


def _empty(folder: Path) -> None:
    for path in folder.iterdir():
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
