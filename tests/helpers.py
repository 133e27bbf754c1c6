"""Small helpers shared by tests."""

from __future__ import annotations

import numpy as np


def random_frames(count: int, height: int = 24, width: int = 32, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, (height, width, 3), dtype=np.uint8) for _ in range(count)]
