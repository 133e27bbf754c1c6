import csv

import pytest
import torch
import yaml

from framepred.engine.checkpointing import STATE_NAME
from framepred.engine.trainer import train
from framepred.errors import DataError, TrainingDiverged, UsageError
from framepred.tasks.dmvfn import DMVFNTask
from tests.engine.engine_helpers import moving_squares_tree, tiny_config, tiny_options


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    return moving_squares_tree(tmp_path_factory.mktemp("tree"))


def _rows(run_dir, kind="train"):
    with open(run_dir / "metrics.csv", newline="") as handle:
        return [r for r in csv.DictReader(handle) if r["kind"] == kind]


def test_run_directory_contents(tree, tmp_path):
    run = tmp_path / "run"
    result = train(tiny_config(tree, run, steps=4, val_every=2, save_every=3))
    assert result.steps == 4
    rows = _rows(run)
    assert [int(r["step"]) for r in rows] == [1, 2, 3, 4]
    assert all(float(r["lr"]) > 0 and float(r["loss"]) > 0 for r in rows)
    assert [int(r["step"]) for r in _rows(run, "val")] == [2, 4]
    config = yaml.safe_load((run / "config.yaml").read_text())
    assert config["task_options"]["lr"] == 1e-3 and config["task_options"]["warmup"] == 3
    assert config["val_split"] == "val" and config["steps"] == 4
    for name in ("results.png", "samples/step_0000002.png", "checkpoints/last/model.safetensors"):
        assert (run / name).is_file(), name
    assert list((run / "events").iterdir())
    state = torch.load(run / "checkpoints" / "last" / STATE_NAME, weights_only=True)
    assert state["position"]["step"] == 4 and "model" in state["optimizers"] and "torch" in state["rng"]
    assert result.validation["copy_last_psnr"] > 0


def _weights(run_dir):
    from safetensors.torch import load_file

    return load_file(run_dir / "checkpoints" / "last" / "model.safetensors")


def test_validation_at_start_scores_step_0_and_changes_nothing_else(tree, tmp_path):
    # sampled routing: the validation's gate draws must not move the training's random streams
    options = tiny_options()
    plain, early = tmp_path / "plain", tmp_path / "early"
    train(tiny_config(tree, plain, steps=3, val_every=2, task_options=options))
    train(tiny_config(tree, early, steps=3, val_every=2, task_options=options, val_at_start=True))
    assert [int(r["step"]) for r in _rows(early, "val")] == [0, 2, 3]
    scores = [
        {k: v for k, v in r.items() if k != "elapsed_s"} for r in _rows(early, "val") + _rows(plain, "val")
    ]
    assert scores[1:3] == scores[3:]
    assert [r["loss"] for r in _rows(early)] == [r["loss"] for r in _rows(plain)]
    first, second = _weights(plain), _weights(early)
    assert all(torch.equal(first[name], second[name]) for name in first)
    # step 0 is never the best checkpoint, even when it scores highest
    best = torch.load(early / "checkpoints" / "best" / STATE_NAME, weights_only=True)
    assert best["position"]["step"] in (2, 3)


def test_validation_at_start_is_not_repeated_on_resume(tree, tmp_path):
    run = tmp_path / "run"
    train(tiny_config(tree, run, steps=2, val_every=2, val_at_start=True))
    train(tiny_config(tree, run, steps=4, val_every=2, val_at_start=True), resume=True)
    assert [int(r["step"]) for r in _rows(run, "val")] == [0, 2, 4]


def test_nan_loss_stops_with_the_last_good_checkpoint_kept(tree, tmp_path, monkeypatch):
    calls = {"n": 0}
    real_loss = DMVFNTask.loss

    def loss_that_diverges(self, model, inputs):
        calls["n"] += 1
        loss, terms = real_loss(self, model, inputs)
        return (loss * float("nan") if calls["n"] == 3 else loss), terms

    monkeypatch.setattr(DMVFNTask, "loss", loss_that_diverges)
    run = tmp_path / "run"
    with pytest.raises(TrainingDiverged, match=r"loss became nan at step 3.*last good checkpoint \(step 2\)"):
        train(tiny_config(tree, run, steps=6, save_every=1, val_every=100))
    state = torch.load(run / "checkpoints" / "last" / STATE_NAME, weights_only=True)
    assert state["position"]["step"] == 2
    assert [int(r["step"]) for r in _rows(run)] == [1, 2]


def test_bad_options_are_usage_errors(tree, tmp_path):
    with pytest.raises(UsageError, match="exactly one"):
        train(tiny_config(tree, tmp_path / "r", steps=None))
    with pytest.raises(UsageError, match="fp16"):
        train(tiny_config(tree, tmp_path / "r", amp="fp16"))
    with pytest.raises(DataError, match="no split 'nope'"):
        train(tiny_config(tree, tmp_path / "r", val_split="nope"))
    with pytest.raises(DataError, match="--batch-size"):
        train(tiny_config(tree, tmp_path / "r", batch_size=64))


def test_epochs_count_every_triplet(tree, tmp_path):
    # 3 training sequences x 2 clips of 4 frames = 6 clips; batch 2 -> 3 batches x 2 triplets per epoch.
    result = train(tiny_config(tree, tmp_path / "r", steps=None, epochs=1, val_every=100))
    assert result.steps == 6


def test_resume_mid_batch_in_process_matches(tree, tmp_path, monkeypatch):
    whole, broken = tmp_path / "whole", tmp_path / "broken"
    config = dict(steps=8, save_every=1, val_every=4)
    train(tiny_config(tree, whole, **config))

    from framepred.engine.trainer import Trainer

    real_round = Trainer._round

    def dies_at_step_6(self, inputs, rates):
        if self.position["step"] == 5:  # step 5 is the first triplet of a 2-triplet batch: mid-batch
            raise KeyboardInterrupt
        real_round(self, inputs, rates)

    monkeypatch.setattr(Trainer, "_round", dies_at_step_6)
    with pytest.raises(KeyboardInterrupt):
        train(tiny_config(tree, broken, **config))
    monkeypatch.setattr(Trainer, "_round", real_round)
    state = torch.load(broken / "checkpoints" / "last" / STATE_NAME, weights_only=True)
    assert state["position"]["update"] == 1  # the checkpoint sits inside a batch
    train(tiny_config(tree, broken, **config), resume=True)
    assert [r["loss"] for r in _rows(broken)] == [r["loss"] for r in _rows(whole)]
    assert [r["val_psnr"] for r in _rows(broken, "val")] == [r["val_psnr"] for r in _rows(whole, "val")]


def test_bf16_autocast_channels_last_and_clipping_run_on_cpu(tree, tmp_path):
    result = train(tiny_config(tree, tmp_path / "r", steps=2, amp="bf16", channels_last=True, grad_clip=0.5))
    rows = _rows(tmp_path / "r")
    assert result.steps == 2 and all(float(r["loss"]) > 0 for r in rows)
