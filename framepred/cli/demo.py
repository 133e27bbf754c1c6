"""`framepred demo` (filled in by its issue)."""

from __future__ import annotations

from framepred.errors import UsageError


def command() -> None:
    """Prepare the built-in synthetic data, train a small DMVFN, evaluate it against copy-last."""
    raise UsageError("`framepred demo` is not available yet in this version")
