"""Recipes trained in stages (engine/stages.py): one run per stage in one run directory, each stage
training only what its optimizer holds, the published weights holding every stage trained so far."""

from __future__ import annotations

import csv
import os
import subprocess
import sys

import pytest
import torch
from typer.testing import CliRunner

import tests.engine.toy_staged  # noqa: F401  (registers the two-stage test recipe)
from framepred.cli.app import app
from framepred.engine.config import TrainConfig
from framepred.engine.trainer import Trainer, train
from framepred.errors import UsageError
from framepred.models import load_model
from tests.engine.engine_helpers import moving_squares_tree, tiny_config

runner = CliRunner()


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    return moving_squares_tree(tmp_path_factory.mktemp("tree"), sequences=2, frames=6, size=40)


def _config(tree, run_dir, stage=None, steps=3, **extra):
    values = dict(
        task="toy-staged", data=str(tree), run_dir=str(run_dir), steps=steps, batch_size=2, device="cpu",
        seed=5, val_every=2, save_every=2, val_samples=2, stage=stage,
    )  # fmt: skip
    values.update(extra)
    return TrainConfig(**values)


def _weights(path):
    return {k: v.clone() for k, v in load_model(path).model.state_dict().items()}


def _steps(run_dir):
    with open(run_dir / "metrics.csv", newline="") as handle:
        return [r["step"] for r in csv.DictReader(handle) if r["kind"] == "train"]


def test_all_stages_train_in_turn_into_one_run_directory(tree, tmp_path):
    run = tmp_path / "run"
    result = train(_config(tree, run))
    assert result.steps == 6 and result.run_dir == run
    for stage in ("first", "second"):
        assert _steps(run / "stages" / stage) == ["1", "2", "3"]
    assert (run / "config.yaml").is_file()
    first = _weights(run / "stages" / "first" / "checkpoints" / "last" / "model.safetensors")
    published = _weights(run / "checkpoints" / "last" / "model.safetensors")
    # The second stage's optimizer held only the second part: the first part is as stage 1 left it,
    # the second part has moved away from it.
    for key, value in first.items():
        if key.startswith("first."):
            assert torch.equal(published[key], value), key
    assert any(not torch.equal(published[k], v) for k, v in first.items() if k.startswith("second."))


def test_stages_one_by_one_give_what_all_gives(tree, tmp_path):
    together, apart = tmp_path / "together", tmp_path / "apart"
    train(_config(tree, together))
    train(_config(tree, apart, stage="first"))
    assert not (apart / "stages" / "second").exists()
    train(_config(tree, apart, stage="second"))
    a = _weights(together / "checkpoints" / "last" / "model.safetensors")
    b = _weights(apart / "checkpoints" / "last" / "model.safetensors")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_a_later_stage_keeps_the_run_options(tree, tmp_path):
    run = tmp_path / "run"
    train(_config(tree, run, stage="first", steps=1, task_options={"lr": 1e-3, "crop": 24}))
    train(_config(tree, run, stage="second", steps=1, task_options={"lr": 2e-3}))
    with open(run / "stages" / "second" / "config.yaml") as handle:
        saved = handle.read()
    assert "lr: 0.002" in saved and "crop: 24" in saved


def test_resume_continues_the_interrupted_stage_then_the_rest(tree, tmp_path, monkeypatch):
    whole, broken = tmp_path / "whole", tmp_path / "broken"
    train(_config(tree, whole))
    real_round, calls = Trainer._round, []

    def interrupted(self, inputs, rates):
        calls.append(self.config.stage)
        if self.config.stage == "second" and self.position["step"] == 2:
            raise KeyboardInterrupt
        real_round(self, inputs, rates)

    monkeypatch.setattr(Trainer, "_round", interrupted)
    with pytest.raises(KeyboardInterrupt):
        train(_config(tree, broken))
    monkeypatch.setattr(Trainer, "_round", real_round)
    # The CLI's --resume reads RUN/config.yaml; the finished first stage is not trained again.
    result = runner.invoke(app, ["train", "toy-staged", "--run-dir", str(broken), "--resume", "--json"])
    assert result.exit_code == 0, result.output
    for stage in ("first", "second"):
        assert _steps(broken / "stages" / stage) == _steps(whole / "stages" / stage) == ["1", "2", "3"]
    a = _weights(whole / "checkpoints" / "last" / "model.safetensors")
    b = _weights(broken / "checkpoints" / "last" / "model.safetensors")
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_stage_options_are_checked(tree, tmp_path):
    with pytest.raises(UsageError, match="has no stage 'third': choose one of first, second or all"):
        train(_config(tree, tmp_path / "a", stage="third"))
    with pytest.raises(UsageError, match="trains in one stage; drop --stage"):
        train(tiny_config(tree, tmp_path / "b", stage="first"))
    train(_config(tree, tmp_path / "c", stage="first", steps=1))
    with pytest.raises(UsageError, match="is the 'first' stage of the run"):
        train(_config(tree, tmp_path / "c" / "stages" / "first", stage="first", steps=1))


@pytest.mark.slow
def test_two_processes_train_every_stage(tree, tmp_path):
    run = tmp_path / "ddp"
    env = {**os.environ, "FRAMEPRED_PLUGINS": "tests.engine.toy_staged", "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "framepred", "train", "toy-staged", "--data", str(tree), "--run-dir",
               str(run), "--steps", "2", "--batch-size", "1", "--nproc", "2", "--device", "cpu"]  # fmt: skip
    completed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stderr
    for stage in ("first", "second"):
        assert _steps(run / "stages" / stage) == ["1", "2"]
    assert (run / "checkpoints" / "last" / "model.safetensors").is_file()
