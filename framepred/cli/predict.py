"""`framepred predict` (filled in by its issue)."""

from __future__ import annotations

from framepred.errors import UsageError


def command() -> None:
    """Predict the next frame from two frames with a trained or official checkpoint."""
    raise UsageError("`framepred predict` is not available yet in this version")
