"""The one console every command shares: human output on stderr, machine output on stdout.

Progress bars appear only when stderr is a terminal; otherwise a plain line is printed every
few seconds, which is what logs of batch jobs want.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from rich.console import Console
from rich.markup import escape

T = TypeVar("T")

console = Console(stderr=True, highlight=False)


@dataclass
class Settings:
    """Global options, set once by the app's callback."""

    verbosity: int = 0  # -1 quiet, 0 normal, 1+ verbose
    debug: bool = False


settings = Settings()


# Messages are plain text: they name files, and a name like "clip [720p].mp4" is not rich markup.
# They are soft-wrapped: off a terminal rich would otherwise cut long paths at 80 columns.


def info(message: str) -> None:
    if settings.verbosity >= 0:
        console.print(message, markup=False, soft_wrap=True)


def detail(message: str) -> None:
    if settings.verbosity >= 1:
        console.print(f"[dim]{escape(message)}[/dim]", soft_wrap=True)


def warn(message: str) -> None:
    console.print(f"[yellow]warning:[/yellow] {escape(message)}", soft_wrap=True)


def error_line(message: str) -> None:
    """The single line a failed command prints (soft-wrapped: long paths stay on one line)."""
    console.print(
        f"[bold red]error:[/bold red] {escape(message)}", soft_wrap=True, markup=True, highlight=False
    )


def print_json(obj: Any) -> None:
    """Machine-readable results: one JSON document on stdout."""
    sys.stdout.write(json.dumps(obj, default=str) + "\n")
    sys.stdout.flush()


def progress(
    iterable: Iterable[T], total: int | None = None, description: str = "", every_seconds: float = 5.0
) -> Iterator[T]:
    """Iterate with progress: a rich bar on a terminal, a plain line every few seconds otherwise."""
    if total is None and hasattr(iterable, "__len__"):
        total = len(iterable)  # type: ignore[arg-type]
    if settings.verbosity < 0:
        yield from iterable
        return
    if console.is_terminal:
        from rich.progress import track

        yield from track(iterable, total=total, description=description, console=console, transient=True)
        return
    start = last = time.monotonic()
    done = 0
    for item in iterable:
        yield item
        done += 1
        now = time.monotonic()
        if now - last >= every_seconds:
            last = now
            of_total = f"/{total}" if total else ""
            console.print(f"{description} {done}{of_total} ({done / (now - start):.1f}/s)", soft_wrap=True)
    if done and time.monotonic() - start >= every_seconds:
        console.print(f"{description} {done} done in {time.monotonic() - start:.1f}s", soft_wrap=True)
