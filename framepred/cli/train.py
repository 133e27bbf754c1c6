"""`framepred train` (filled in by its issue)."""

from __future__ import annotations

from framepred.errors import UsageError


def command() -> None:
    """Train a model (e.g. dmvfn) on a frame tree, on one CPU or many GPUs, with exact resume."""
    raise UsageError("`framepred train` is not available yet in this version")
