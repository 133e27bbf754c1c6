"""The script that trains and scores the bundled model runs end to end (a few steps; slow: data prep)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_the_bundled_model_recipe_runs_and_scores(shared_data, tmp_path) -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "train_bundled_model.py"), "--work", str(tmp_path),
         "--steps", "8", "--val-every", "8", "--minutes", "5"],
        capture_output=True, text=True, timeout=1200,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert "held-out windows: 28" in done.stdout
    assert "| copy-last | 23.72 |" in done.stdout  # the held-out frames and the protocol are the card's
