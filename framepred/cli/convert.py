"""`framepred convert` (filled in by its issue)."""

from __future__ import annotations

from framepred.errors import UsageError


def command() -> None:
    """Convert an official checkpoint (.pkl/.pth) into framepred's safetensors format."""
    raise UsageError("`framepred convert` is not available yet in this version")
