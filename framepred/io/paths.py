"""File naming helpers: natural sort order and the image/video suffixes framepred recognises."""

from __future__ import annotations

import re
from pathlib import Path

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"})
VIDEO_SUFFIXES = frozenset({".mp4", ".avi", ".mkv", ".webm", ".mov", ".m4v", ".mpg", ".mpeg", ".gif"})

_DIGITS = re.compile(r"(\d+)")


def natural_key(text: str) -> tuple:
    """Sort key that orders embedded numbers by value: ``frame2`` before ``frame10``."""
    parts = tuple((0, int(p), "") if p.isdecimal() else (1, 0, p.lower()) for p in _DIGITS.split(text) if p)
    return parts, text  # the exact text only breaks ties (e.g. case)


def is_image_file(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES


def is_video_file(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in VIDEO_SUFFIXES - {".gif"}


def is_hidden(path: Path) -> bool:
    return path.name.startswith(".")
