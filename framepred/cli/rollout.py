"""`framepred rollout` (filled in by its issue)."""

from __future__ import annotations

from framepred.errors import UsageError


def command() -> None:
    """Predict many future frames recursively from context frames, a frame folder or a video."""
    raise UsageError("`framepred rollout` is not available yet in this version")
