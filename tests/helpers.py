"""Small helpers shared by tests."""

from __future__ import annotations

import numpy as np


def random_frames(count: int, height: int = 24, width: int = 32, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, (height, width, 3), dtype=np.uint8) for _ in range(count)]


def one_line_error(result, *fragments: str) -> None:
    """A CLI failure as the project promises it: exit code 2 and one ``error:`` line naming the fix."""
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
