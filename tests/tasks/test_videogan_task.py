"""The VideoGAN recipe: its options, losses and schedule, data of fixed length, and the unconditional
variant's training (the registry tests train the conditional one)."""

import csv

import numpy as np
import pytest
import torch

from framepred.data.tree import SequenceWriter
from framepred.engine.config import TrainConfig
from framepred.engine.data import open_training_data
from framepred.engine.trainer import train
from framepred.errors import UsageError
from framepred.models import load_model
from framepred.tasks import create_task
from framepred.tasks.base import Nets
from tests.engine.engine_helpers import moving_squares_tree, train_interrupted_then_resumed

TINY = {"frames": 16, "width": 1 / 16}


def test_defaults_are_the_papers():
    task = create_task("videogan")
    o = task.options
    assert (o.condition, o.frames, o.lr, o.beta1, o.gan_loss) == ("image", 32, 2e-4, 0.5, "bce")
    assert task.reconstruction_weight == 10 and task.mask_weight == 0
    assert o.future_weight == 0 and not o.input_background  # the deviations are off by default
    unconditional = create_task("videogan", condition="none")
    assert unconditional.reconstruction_weight == 0 and unconditional.mask_weight == 0.1
    assert unconditional.validation() is None  # nothing to score videos from noise against
    spec = task.data()
    assert (spec.clip_frames, spec.pad, spec.size, spec.augment.crop) == (32, True, (64, 64), None)
    assert task.validation().context == 1 and task.validation().horizon == 31


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"frames": 20}, "multiple of 16"),
        ({"condition": "video"}, "condition"),
        ({"condition": "none", "reconstruction_weight": 5.0}, "no input image"),
        ({"mask_weight": -1.0}, "--mask-weight"),
        ({"gan_loss": "wasserstein"}, "unknown adversarial loss"),
        ({"g_every": 0}, "--g-every"),
        ({"d_every": 0}, "--d-every"),
        ({"beta1": 1.0}, "--beta1"),
        ({"lr": 0.0}, "--lr"),
        ({"val_steps": 32}, "--val-steps"),
        ({"future_weight": -1.0}, "--future-weight"),
        ({"condition": "none", "future_weight": 1.0}, "no real future"),
        ({"condition": "none", "input_background": True}, "--input-background"),
    ],
)
def test_bad_options_are_refused_up_front(options, message):
    with pytest.raises(UsageError, match=message):
        create_task("videogan", **options)


def test_schedule_options_become_phases():
    task = create_task("videogan", d_every=3, g_every=1, g_repeat=2)
    d, g = task.phases()
    assert (d.name, d.trains, d.every) == ("D", "discriminator", 3)
    assert (g.name, g.trains, g.every, g.repeat) == ("G", "generator", 1, 2)
    assert [step for step in range(7) if d.due(step)] == [0, 3, 6]


def _nets(task):
    torch.manual_seed(0)
    return Nets(task.build_networks())


def test_generator_loss_terms():
    task = create_task("videogan", **TINY)
    nets = _nets(task)
    videos = next(task.step_inputs(torch.rand(2, 16, 3, 64, 64)))
    assert videos.shape == (2, 3, 16, 64, 64) and videos.min() >= -1 and videos.max() <= 1
    total, terms = task.g_loss(nets, videos, 0)
    assert set(terms) == {"adv", "rec"}
    with torch.no_grad():
        made = nets.generator(videos[:, :, 0]).video
    reconstruction = (made[:, :, 0] - videos[:, :, 0]).abs().mean().item()
    assert terms["rec"] == pytest.approx(reconstruction, rel=1e-4)
    assert total.item() == pytest.approx(terms["adv"] + 10 * terms["rec"], rel=1e-4)
    loss, d_terms = task.d_loss(nets, videos, 0)
    assert loss.item() > 0 and 0 < d_terms["real"] < 1 and 0 < d_terms["fake"] < 1


def test_future_l1_is_added_when_asked():
    task = create_task("videogan", future_weight=2.0, **TINY)
    nets = _nets(task)
    videos = next(task.step_inputs(torch.rand(2, 16, 3, 64, 64)))
    total, terms = task.g_loss(nets, videos, 0)
    assert set(terms) == {"adv", "rec", "future"}
    with torch.no_grad():
        made = nets.generator(videos[:, :, 0]).video
    future = (made[:, :, 1:] - videos[:, :, 1:]).abs().mean().item()
    assert terms["future"] == pytest.approx(future, rel=1e-4)
    assert total.item() == pytest.approx(terms["adv"] + 10 * terms["rec"] + 2 * future, rel=1e-4)
    assert task.phases()[1].terms == ("adv", "rec", "future")


def test_unconditional_losses_share_one_noise_draw_per_round():
    task = create_task("videogan", condition="none", **TINY)
    nets = _nets(task)
    videos = torch.rand(2, 3, 16, 64, 64) * 2 - 1
    z = task._generator_input(videos, step=5)
    assert torch.equal(task._generator_input(videos, step=5), z)
    assert not torch.equal(task._generator_input(videos, step=6), z)
    _, terms = task.g_loss(nets, videos, 7)
    assert set(terms) == {"adv", "mask"} and 0 < terms["mask"] < 1


def _sequence(root, name, frames, split="train"):
    with SequenceWriter(root, split, name) as writer:
        for t in range(frames):
            writer.write(np.full((48, 80, 3), 5 * t, np.uint8))


def test_short_sequences_repeat_their_last_frame_and_frames_are_resized(tmp_path):
    _sequence(tmp_path, "short", 5)
    _sequence(tmp_path, "long", 40)
    task = create_task("videogan", **TINY)
    config = TrainConfig(
        task="videogan", data=str(tmp_path), run_dir=str(tmp_path / "r"), steps=1, val_fraction=0
    )
    data = open_training_data(config, task)
    assert data.clip_size == (64, 64)
    clips = {tuple(data.dataset[(0, i)][:, 0, 0, 0].tolist()) for i in range(len(data.dataset))}
    assert (0, 5, 10, 15, 20) + (20,) * 11 in clips  # 5 frames, the last one repeated to 16
    assert tuple(range(0, 80, 5)) in clips and tuple(range(80, 160, 5)) in clips  # 40 frames: 2 clips
    assert all(data.dataset[(0, i)].shape == (16, 3, 64, 64) for i in range(len(data.dataset)))


def _rows(run_dir):
    with open(run_dir / "metrics.csv", newline="") as handle:
        return [{k: v for k, v in r.items() if k != "elapsed_s"} for r in csv.DictReader(handle)]


def test_unconditional_training_resumes_exactly_and_saves_a_sampler(tmp_path, monkeypatch):
    tree = moving_squares_tree(tmp_path / "tree", sequences=3, frames=12, size=72)

    def config(run_dir):
        return TrainConfig(
            task="videogan", data=str(tree), run_dir=str(run_dir), steps=3, batch_size=2, device="cpu",
            seed=3, save_every=1, task_options={"condition": "none", "g_every": 1, "d_every": 2, **TINY},
        )  # fmt: skip

    train(config(tmp_path / "whole"))
    train_interrupted_then_resumed(config(tmp_path / "broken"), monkeypatch)
    rows = _rows(tmp_path / "whole")
    assert rows == _rows(tmp_path / "broken")
    # --d-every 2: the discriminator trains in rounds 0 and 2 only, the generator in every round.
    assert [bool(r["D_loss"]) for r in rows] == [True, False, True]
    assert all(r["G_mask"] for r in rows)
    loaded = load_model(tmp_path / "whole" / "checkpoints" / "last" / "model.safetensors")
    assert loaded.name == "videogan" and loaded.model.config.condition == "none"
    assert loaded.model.sample(1)["video"].shape == (1, 16, 3, 64, 64)


def test_shards_of_another_size_are_refused():
    task = create_task("videogan", **TINY)
    with pytest.raises(UsageError, match="--size 64"):
        task.check_clip_size(32, 32)


def test_trains_with_channels_last(tmp_path):
    tree = moving_squares_tree(tmp_path / "tree", sequences=2, frames=12, size=72, val=False)
    config = TrainConfig(
        task="videogan", data=str(tree), run_dir=str(tmp_path / "run"), steps=1, batch_size=2, device="cpu",
        channels_last=True, val_fraction=0, task_options=dict(TINY),
    )  # fmt: skip
    assert train(config).steps == 1
