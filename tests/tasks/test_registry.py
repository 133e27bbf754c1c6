"""Every registered training recipe, the day it is registered: a short run on a small frame tree with
its tiny options, an exact resume after an interruption, and a predicting network that loads."""

import csv

import numpy as np
import pytest

import tests.engine.toy_gan  # noqa: F401  (the two-network test recipe goes through the same tests)
import tests.engine.toy_staged  # noqa: F401  (and the two-stage one)
from framepred.engine.config import TrainConfig
from framepred.engine.trainer import train
from framepred.inference.predictor import Predictor
from framepred.tasks import list_tasks, task_class
from tests.engine.engine_helpers import moving_squares_tree, train_interrupted_then_resumed


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    # What Task.tiny_options promises to train on: 64x64 or larger frames, 12 frames per sequence.
    return moving_squares_tree(tmp_path_factory.mktemp("tree"), sequences=3, frames=12, size=72)


def _config(name, tree, run_dir, steps):
    return TrainConfig(
        task=name, data=str(tree), run_dir=str(run_dir), steps=steps, batch_size=2, device="cpu", seed=11,
        val_every=2, save_every=1, val_samples=4, task_options=task_class(name).tiny_options(),
    )  # fmt: skip


def _run_dirs(name, run_dir):
    """The run directory, or one per stage for a recipe trained in stages (engine/stages.py)."""
    stages = task_class(name).stages
    return [run_dir / "stages" / stage for stage in stages] if stages else [run_dir]


def _rows(run_dir):
    with open(run_dir / "metrics.csv", newline="") as handle:
        return [{k: v for k, v in r.items() if k != "elapsed_s"} for r in csv.DictReader(handle)]


@pytest.mark.parametrize("name", list_tasks())
def test_trains_resumes_exactly_and_predicts(name, tree, tmp_path, monkeypatch):
    tree = task_class(name).tiny_data(tree, tmp_path)
    whole, broken = tmp_path / "whole", tmp_path / "broken"
    result = train(_config(name, tree, whole, steps=3))
    assert result.steps == 3 * len(_run_dirs(name, whole))
    for run_dir in _run_dirs(name, whole):
        rows = [r for r in _rows(run_dir) if r["kind"] == "train"]
        assert [r["step"] for r in rows] == ["1", "2", "3"]

    train_interrupted_then_resumed(_config(name, tree, broken, steps=3), monkeypatch)
    for whole_dir, broken_dir in zip(_run_dirs(name, whole), _run_dirs(name, broken), strict=True):
        assert _rows(broken_dir) == _rows(whole_dir)

    predictor = Predictor.from_checkpoint(whole / "checkpoints" / "last" / "model.safetensors", device="cpu")
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 256, (41, 67, 3), dtype=np.uint8) for _ in range(predictor.context_frames)]
    assert predictor.predict(frames).shape == (41, 67, 3)
