"""The engine with a two-network recipe: alternation, freezing, per-network learning rates, EMA, state."""

import csv

import pytest
import torch

import tests.engine.toy_gan as toy
from framepred.engine.checkpointing import STATE_NAME
from framepred.engine.config import TrainConfig
from framepred.engine.trainer import Trainer, train
from framepred.errors import CheckpointError
from framepred.inference.predictor import Predictor
from framepred.models.checkpoint import load_model
from tests.engine.engine_helpers import moving_squares_tree


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    return moving_squares_tree(tmp_path_factory.mktemp("tree"), sequences=3, frames=8, size=72)


def toy_config(tree, run_dir, **extra) -> TrainConfig:
    values = dict(
        task="toy-gan", data=str(tree), run_dir=str(run_dir), steps=6, batch_size=2, device="cpu", seed=5,
        val_every=3, save_every=1, task_options={},
    )  # fmt: skip
    values.update(extra)
    return TrainConfig(**values)


def _rows(run_dir, kind="train"):
    with open(run_dir / "metrics.csv", newline="") as handle:
        return [r for r in csv.DictReader(handle) if r["kind"] == kind]


def test_phases_alternate_with_their_own_intervals_and_repeats(tree, tmp_path, monkeypatch):
    seen = []
    real_init = toy.ToyGANTask.__init__

    def keep(self, options):
        real_init(self, options)
        seen.append(self)

    monkeypatch.setattr(toy.ToyGANTask, "__init__", keep)
    run = tmp_path / "run"
    train(toy_config(tree, run))
    phases = [phase for phase, *_ in seen[0].seen]
    # D every round; G every second round (rounds 0, 2, 4 of 0..5), twice on the same inputs.
    assert phases == ["D", "G", "G", "D", "D", "G", "G", "D", "D", "G", "G", "D"]
    rows = _rows(run)
    assert [bool(r["D_loss"]) for r in rows] == [True] * 6
    assert [bool(r["G_loss"]) for r in rows] == [True, False] * 3
    assert rows[0]["loss"] == rows[0]["G_loss"] and rows[1]["loss"] == ""  # loss: the primary's phase
    state = torch.load(run / "checkpoints" / "last" / STATE_NAME, weights_only=True)
    adam = next(iter(state["optimizers"]["generator"]["state"].values()))
    assert int(adam["step"]) == 6  # Adam counts its updates: 3 due rounds x 2 repeats


def test_each_phase_trains_only_its_network(tree, tmp_path, monkeypatch):
    seen = []
    real_init = toy.ToyGANTask.__init__
    monkeypatch.setattr(
        toy.ToyGANTask, "__init__", lambda self, o: (real_init(self, o), seen.append(self))[0]
    )
    train(toy_config(tree, tmp_path / "run", steps=2))
    flags = {(phase, g, d) for phase, g, d in seen[0].seen}
    assert flags == {("D", False, True), ("G", True, False)}


def test_each_optimizer_gets_its_own_learning_rate(tree, tmp_path):
    run = tmp_path / "run"
    train(toy_config(tree, run, steps=4, task_options={"g_lr": 1e-3, "d_lr": 4e-2}))
    rows = _rows(run)
    assert {float(r["lr_discriminator"]) for r in rows} == {4e-2}
    g_rates = [float(r["lr"]) for r in rows]
    assert g_rates[0] == pytest.approx(1e-3) and g_rates[-1] < g_rates[0]  # the generator's decays
    state = torch.load(run / "checkpoints" / "last" / STATE_NAME, weights_only=True)
    assert state["optimizers"]["discriminator"]["param_groups"][0]["lr"] == pytest.approx(4e-2)


def test_checkpoint_holds_the_predicting_network_and_every_training_state(tree, tmp_path):
    run = tmp_path / "run"
    train(toy_config(tree, run, steps=3))
    folder = run / "checkpoints" / "last"
    state = torch.load(folder / STATE_NAME, weights_only=True)
    assert set(state["networks"]) == {"discriminator"}
    assert set(state["optimizers"]) == set(state["scalers"]) == {"generator", "discriminator"}
    assert state["task"] == {"phases_seen": 7}  # the recipe's own state: D,G,G, D, D,G,G
    loaded = load_model(folder / "model.safetensors")
    assert loaded.name == "toy-predictor" and loaded.meta["step"] == "3"
    frame = (torch.rand(37, 45, 3) * 255).to(torch.uint8).numpy()
    assert Predictor(loaded.model).predict([frame, frame]).shape == (37, 45, 3)


def test_ema_is_saved_as_the_model_and_the_raw_weights_beside_it(tree, tmp_path):
    run = tmp_path / "run"
    train(toy_config(tree, run, steps=4, ema=0.9))
    folder = run / "checkpoints" / "last"
    state = torch.load(folder / STATE_NAME, weights_only=True)
    raw = state["networks"]["generator"]
    average = load_model(folder / "model.safetensors").model.state_dict()
    key = "net.0.weight"
    assert not torch.equal(raw[key], average[key])
    # ema_decay ramps up: (1 + step) / (10 + step) < 0.9 for the first rounds.
    assert set(state["networks"]) == {"generator", "discriminator"}


def _kill_at(monkeypatch, at_step):
    real_round = Trainer._round

    def dies(self, inputs, rates):
        if self.position["step"] == at_step:
            raise KeyboardInterrupt
        real_round(self, inputs, rates)

    monkeypatch.setattr(Trainer, "_round", dies)
    return real_round


@pytest.mark.parametrize("ema", [None, 0.8])
def test_two_network_resume_is_exact(tree, tmp_path, monkeypatch, ema):
    whole, broken = tmp_path / "whole", tmp_path / "broken"
    train(toy_config(tree, whole, steps=7, ema=ema))
    real_round = _kill_at(monkeypatch, 4)
    with pytest.raises(KeyboardInterrupt):
        train(toy_config(tree, broken, steps=7, ema=ema))
    monkeypatch.setattr(Trainer, "_round", real_round)
    train(toy_config(tree, broken, steps=7, ema=ema), resume=True)
    columns = ["step", "loss", "D_loss", "G_loss", "G_l1", "G_adv", "lr", "lr_discriminator"]
    assert [[r[c] for c in columns] for r in _rows(broken)] == [[r[c] for c in columns] for r in _rows(whole)]
    assert [r["val_psnr"] for r in _rows(broken, "val")] == [r["val_psnr"] for r in _rows(whole, "val")]


def test_resuming_with_another_process_count_is_refused(tree, tmp_path):
    run = tmp_path / "run"
    train(toy_config(tree, run, steps=2))
    path = run / "checkpoints" / "last" / STATE_NAME
    state = torch.load(path, weights_only=True)
    state["world_size"] = 2
    torch.save(state, path)
    with pytest.raises(CheckpointError, match=r"trained by 2 process\(es\), this run has 1; resume with 2"):
        train(toy_config(tree, run, steps=4), resume=True)


def test_a_checkpoint_missing_a_network_is_refused_by_name(tree, tmp_path):
    run = tmp_path / "run"
    train(toy_config(tree, run, steps=2))
    path = run / "checkpoints" / "last" / STATE_NAME
    state = torch.load(path, weights_only=True)
    del state["networks"]["discriminator"]
    torch.save(state, path)
    with pytest.raises(CheckpointError, match="networks do not match this recipe .missing discriminator"):
        train(toy_config(tree, run, steps=4), resume=True)


def test_init_starts_from_another_runs_weights(tree, tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    train(toy_config(tree, first, steps=2))
    weights = first / "checkpoints" / "last" / "model.safetensors"
    trainer = Trainer(toy_config(tree, second, steps=1, init=str(weights)), *_local())
    expected = load_model(weights).model.state_dict()
    for key, value in trainer.nets.primary.state_dict().items():
        assert torch.equal(value, expected[key]), key
    with pytest.raises(CheckpointError, match="holds a 'toy-predictor' model, but the 'dmvfn' recipe"):
        from tests.engine.engine_helpers import tiny_config

        Trainer(tiny_config(tree, tmp_path / "third", init=str(weights)), *_local())


def _local():
    from framepred.engine.distributed import DistInfo

    return DistInfo(), torch.device("cpu"), False
