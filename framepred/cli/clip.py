"""`framepred clip` (filled in by its issue)."""

from __future__ import annotations

from framepred.errors import UsageError


def command() -> None:
    """Cut motion-filtered training clips (small crops) from frame sequences into uint8 shards."""
    raise UsageError("`framepred clip` is not available yet in this version")
