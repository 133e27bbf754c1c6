"""A run SIGKILLed mid-training and resumed logs the same losses, step for step, as an uninterrupted run."""

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.engine.engine_helpers import TINY_MODEL, moving_squares_tree

ROOT = Path(__file__).resolve().parents[2]
RECIPE_OPTIONS = {
    "dmvfn": [
        "--crop", "64", "--clip-frames", "4", "--no-perceptual", "--model-config", json.dumps(TINY_MODEL),
        "--lr", "1e-3", "--warmup", "3",
    ],
    "toy-gan": ["--g-every", "2", "--g-repeat", "1"],  # two networks, alternating (tests/engine/toy_gan.py)
}  # fmt: skip
STEPS = {"dmvfn": 10, "toy-gan": 24}


def _command(recipe: str, tree: Path, run_dir: Path, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "framepred", "train", recipe, "--data", str(tree), "--run-dir", str(run_dir),
        "--steps", str(STEPS[recipe]), "--batch-size", "2", *RECIPE_OPTIONS[recipe], "--save-every", "1",
        "--val-every", "5", "--device", "cpu", "--seed", "3", *extra,
    ]  # fmt: skip


def _rows(run_dir: Path, kind: str) -> list[dict[str, str]]:
    with open(run_dir / "metrics.csv", newline="") as handle:
        return [r for r in csv.DictReader(handle) if r["kind"] == kind]


def _losses(run_dir: Path) -> dict[int, list[str]]:
    rows = _rows(run_dir, "train")
    steps = [int(r["step"]) for r in rows]
    assert steps == sorted(set(steps)), "each step is logged exactly once"
    return {int(r["step"]): [v for k, v in r.items() if k.endswith("loss")] for r in rows}


def _train_rows(run_dir: Path) -> int:
    path = run_dir / "metrics.csv"
    return path.read_text().count("\ntrain,") if path.exists() else 0


@pytest.mark.parametrize("recipe", ["dmvfn", "toy-gan"])
def test_sigkill_then_resume_matches_uninterrupted_run(tmp_path, recipe):
    steps = STEPS[recipe]
    tree = moving_squares_tree(tmp_path / "tree")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "FRAMEPRED_PLUGINS": "tests.engine.toy_gan"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    whole, broken = tmp_path / "whole", tmp_path / "broken"
    # The uninterrupted run and the one to be killed run side by side.
    reference = subprocess.Popen(_command(recipe, tree, whole), env=env, stderr=subprocess.PIPE, text=True)
    process = subprocess.Popen(_command(recipe, tree, broken), env=env, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while _train_rows(broken) < 4 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    process.send_signal(signal.SIGKILL)  # with a checkpoint every step, often mid-write
    process.wait()
    killed_at = _train_rows(broken)
    assert 4 <= killed_at < steps, "the kill must land mid-run"
    _, reference_log = reference.communicate(timeout=180)
    assert reference.returncode == 0, reference_log

    resumed = subprocess.run(
        [*_command(recipe, tree, broken), "--resume"], env=env, capture_output=True, text=True, timeout=120
    )
    assert resumed.returncode == 0, resumed.stderr
    assert "resumed at step" in resumed.stderr
    expected, got = _losses(whole), _losses(broken)
    assert list(got) == list(range(1, steps + 1))
    assert got == expected
    val_whole, val_broken = _rows(whole, "val"), _rows(broken, "val")
    assert [(r["step"], r["val_psnr"]) for r in val_broken] == [(r["step"], r["val_psnr"]) for r in val_whole]
    for name in ("config.yaml", "results.png", "checkpoints/last/model.safetensors", "checkpoints/best"):
        assert (broken / name).exists(), name
