"""`framepred scrape`: download web videos (URLs or a search) into a frame tree for training."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from framepred.cli.options import SHARD
from framepred.errors import DataError


def _read_url_list(source: str) -> list[str]:
    """URLs from a file (or stdin for ``-``), one per line; blank lines and ``#`` comments ignored."""
    if source == "-":
        text = sys.stdin.read()
    else:
        try:
            text = Path(source).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            message = f"{source}: cannot read the URL list ({error}); give a text file, one URL per line"
            raise DataError(message) from error
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def command(
    urls: list[str] = typer.Argument(None, help="Video or page URLs; - reads them from stdin."),
    out: Path = typer.Option(..., "--output", "-o", help="Frame tree to write (created or added to)."),
    search: str = typer.Option(None, "--search", help='Search YouTube, e.g. "basketball dunk".'),
    max_videos: int = typer.Option(None, "--max-videos", help="Stop after N videos written (search: 10)."),
    from_file: str = typer.Option(None, "--from-file", help="Read URLs from FILE, one per line (- = stdin)."),
    max_duration: float = typer.Option(None, "--max-duration", help="Skip videos longer than S seconds."),
    min_duration: float = typer.Option(None, "--min-duration", help="Skip videos shorter than S seconds."),
    fps: float = typer.Option(None, "--fps", help="Extract frames at F per second (default: every frame)."),
    frames: int = typer.Option(None, "--frames", help="Keep the first K frames (fewer: skipped)."),
    chunk: bool = typer.Option(False, "--chunk", help="Cut videos into K-frame sequences (see --frames)."),
    size: str = typer.Option(None, "--size", help="Resize frames to WIDTHxHEIGHT, e.g. 64x64."),
    split: str = typer.Option("train", "--split", help="Split the sequences go to."),
    archive: Path = typer.Option(None, "--archive", help="Archive file (default OUT/scrape_archive.txt)."),
    timeout: float = typer.Option(30.0, "--timeout", help="Network timeout in seconds."),
    retries: int = typer.Option(3, "--retries", help="Retries of timeouts and 429/5xx, with back-off."),
    max_filesize: str = typer.Option("500M", "--max-filesize", help="Skip downloads larger than this."),
    rate_limit: str = typer.Option(None, "--rate-limit", help="Download speed cap, e.g. 2M (bytes/s)."),
    sleep: float = typer.Option(1.0, "--sleep", help="Seconds to wait between videos."),
    shard: str = SHARD,
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object per video on stdout."),
) -> None:
    """Download videos (URLs or a search) and turn each into a sequence of a frame tree."""
    from framepred.cli.console import info, print_json
    from framepred.data.resize import parse_size
    from framepred.data.sharding import parse_shard
    from framepred.io.scrape import parse_bytes, scrape

    task = parse_shard(shard)
    urls = list(urls or [])
    if "-" in urls:
        urls = [url for url in urls if url != "-"] + _read_url_list("-")
    if from_file is not None:
        urls += _read_url_list(from_file)

    def show(result) -> None:
        if as_json:
            print_json(result.to_dict())
        what = f"{result.frames} frames" if result.status == "ok" else result.reason
        info(f"{result.status:7} {result.name or result.url}  {what}")

    results = scrape(
        urls, out=out, search=search, max_videos=max_videos, split=split, max_duration=max_duration,
        min_duration=min_duration, fps=fps, frames=frames, chunk=chunk, size=parse_size(size),
        archive=archive, timeout=timeout, retries=retries, sleep=sleep,
        max_filesize=parse_bytes(max_filesize) if max_filesize else None,
        rate_limit=parse_bytes(rate_limit) if rate_limit else None, shard=task, on_result=show,
    )  # fmt: skip
    _summary(results, out)
    if task is not None:
        info(f"task {task} done; when every task has finished: framepred prepare merge {out}")
    if any(result.status == "failed" for result in results):
        raise typer.Exit(1)


def _summary(results: list, out: Path) -> None:
    """The closing table on stderr: every video that did not simply succeed, then the counts.

    With --quiet only the failures are listed (they are errors); skips and counts are left out.
    """
    from rich.markup import escape
    from rich.table import Table

    from framepred.cli.console import console, settings

    quiet = settings.verbosity < 0
    problems = [r for r in results if r.status == "failed" or (r.status == "skipped" and not quiet)]
    if problems:
        table = Table(title="not scraped", title_justify="left", show_edge=False)
        for column in ("status", "url", "reason"):
            table.add_column(column, overflow="fold")
        for result in problems:
            table.add_row(result.status, escape(result.url), escape(result.reason))
        console.print(table)
    if quiet:
        return
    counts = {status: sum(r.status == status for r in results) for status in ("ok", "skipped", "failed")}
    frames = sum(r.frames for r in results)
    console.print(
        f"scrape: {counts['ok']} ok ({frames} frames), {counts['skipped']} skipped, "
        f"{counts['failed']} failed -> {out}",
        soft_wrap=True,
        markup=False,
    )
