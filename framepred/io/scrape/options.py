"""The settings of one scrape run, checked once up front so a bad option fails before any download."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from framepred.errors import UsageError

from .ytdlp import DEFAULT_FORMAT

DEFAULT_MAX_FILESIZE = 500 * 1024**2  # bytes; short clips are far smaller, this stops a runaway download
ARCHIVE_NAME = "scrape_archive.txt"
_SPLIT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
_SIZE_SUFFIXES = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3}


def parse_bytes(text: str) -> int:
    """``"500M"`` -> 524288000. Accepts an integer with an optional K, M or G suffix (powers of 1024)."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGkmg]?)i?[Bb]?\s*", text)
    if not match:
        raise UsageError(f"cannot read {text!r} as a size; write e.g. 500K, 20M or 2G")
    return int(float(match.group(1)) * _SIZE_SUFFIXES[match.group(2).upper()])


def parse_frame_size(text: str) -> tuple[int, int]:
    """``"64x64"`` -> (64, 64) as (width, height)."""
    match = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*", text)
    if not match or int(match.group(1)) < 1 or int(match.group(2)) < 1:
        raise UsageError(f"cannot read {text!r} as a frame size; write WIDTHxHEIGHT, e.g. 64x64")
    return int(match.group(1)), int(match.group(2))


@dataclass(frozen=True)
class ScrapeOptions:
    """One run's settings; see :func:`framepred.io.scrape.scrape` for what each means."""

    out: Path
    split: str = "train"
    max_duration: float | None = None
    min_duration: float | None = None
    fps: float | None = None
    frames: int | None = None
    chunk: bool = False
    size: tuple[int, int] | None = None
    archive: Path | None = None
    timeout: float = 30.0
    retries: int = 3
    backoff: float = 2.0
    max_filesize: int | None = DEFAULT_MAX_FILESIZE
    rate_limit: int | None = None
    sleep: float = 1.0
    video_format: str = DEFAULT_FORMAT

    def __post_init__(self) -> None:
        if not _SPLIT_NAME.match(self.split):
            raise UsageError(f"--split {self.split!r} is not a plain folder name (letters, digits, _ and -)")
        for name, value in (("--max-duration", self.max_duration), ("--min-duration", self.min_duration)):
            if value is not None and value < 0:
                raise UsageError(f"{name} must be >= 0 seconds, got {value}")
        low, high = self.min_duration, self.max_duration
        if low is not None and high is not None and low > high:
            raise UsageError(f"--min-duration {low} is above --max-duration {high}")
        if self.fps is not None and not self.fps > 0:
            raise UsageError(f"--fps must be > 0, got {self.fps}")
        if self.frames is not None and self.frames < 1:
            raise UsageError(f"--frames must be >= 1, got {self.frames}")
        if self.chunk and self.frames is None:
            raise UsageError("--chunk cuts videos into K-frame sequences: give K with --frames K")
        if self.size is not None and (len(self.size) != 2 or min(self.size) < 1):
            raise UsageError(f"--size must be two positive integers (width, height), got {self.size}")
        if not self.timeout > 0:
            raise UsageError(f"--timeout must be > 0 seconds, got {self.timeout}")
        if self.retries < 0:
            raise UsageError(f"--retries must be >= 0, got {self.retries}")
        if self.backoff < 0 or self.sleep < 0:
            raise UsageError("the back-off and the sleep between videos must be >= 0 seconds")
        if self.max_filesize is not None and self.max_filesize < 1:
            raise UsageError(f"--max-filesize must be positive, got {self.max_filesize}")
        if self.rate_limit is not None and self.rate_limit < 1:
            raise UsageError(f"--rate-limit must be positive, got {self.rate_limit}")

    @property
    def archive_path(self) -> Path:
        """The download archive: ``--archive`` or ``OUT/scrape_archive.txt``."""
        return Path(self.archive) if self.archive is not None else Path(self.out) / ARCHIVE_NAME

    def duration_problem(self, duration: float | None) -> str | None:
        """Why a video of ``duration`` seconds is out of bounds, or None (also when unknown)."""
        if duration is None or duration <= 0:
            return None
        if self.max_duration is not None and duration > self.max_duration:
            return f"{duration:g} s is longer than --max-duration {self.max_duration:g}"
        if self.min_duration is not None and duration < self.min_duration:
            return f"{duration:g} s is shorter than --min-duration {self.min_duration:g}"
        return None
