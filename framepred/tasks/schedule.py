"""Learning-rate schedules as plain functions of the iteration (stateless, so resume needs nothing)."""

from __future__ import annotations

import math


def warmup_cosine(iteration: int, total: int, start: float, peak: float, end: float, warmup: int) -> float:
    """Linear warm-up ``start -> peak`` over ``warmup`` iterations, then cosine ``peak -> end`` at ``total``.

    The DMVFN schedule (spec dmvfn.md §7.2) with start = end = 1e-5, peak = 1e-4, warmup = 2000.
    """
    if iteration < warmup:
        return start + (peak - start) * iteration / warmup
    span = max(total - warmup, 1)
    progress = min((iteration - warmup) / span, 1.0)
    return end + (peak - end) * (0.5 + 0.5 * math.cos(math.pi * progress))
