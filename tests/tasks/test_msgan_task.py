"""The msgan recipe: the adversarial gradient reaches the generator, the D/G alternation, the paper's
defaults, the options it refuses, and training on `framepred clip` shards."""

import csv

import numpy as np
import pytest
import torch

from framepred.data.clips import extract_clips
from framepred.engine.config import TrainConfig
from framepred.engine.distributed import DistInfo
from framepred.engine.networks import NetworkSet
from framepred.engine.trainer import train
from framepred.errors import DataError, UsageError
from framepred.io.images import write_image
from framepred.tasks import create_task
from framepred.tasks.base import Nets

SMALL = {"width": 0.125}


def clips_batch(seed=0, batch=4, crop=32):
    generator = torch.Generator().manual_seed(seed)
    return torch.rand(batch, 5, 3, crop, crop, generator=generator) * 2 - 1  # what step_inputs gives


def generator_gradients(lam_adv, **options):
    """The generator's gradient of one G update, taken as the engine runs it (D frozen and bare)."""
    torch.manual_seed(0)
    task = create_task("msgan", **SMALL, lam_adv=lam_adv, **options)
    nets = NetworkSet(task, torch.device("cpu"), DistInfo())
    nets.wrap()
    view = nets.view("generator")
    loss, terms = task.g_loss(view, clips_batch(), step=1)
    loss.backward()
    grads = {n: p.grad.clone() for n, p in nets.bare["generator"].named_parameters()}
    assert all(p.grad is None for p in nets.bare["discriminator"].parameters())  # D frozen, untouched
    return grads, terms


def test_the_adversarial_gradient_reaches_the_generator():
    with_adversary, terms = generator_gradients(0.05)
    assert terms["adv"] > 0
    # The same weights and batch, no adversarial term: lam_adv -> 0 (a tiny positive value is allowed).
    without, _ = generator_gradients(1e-12)
    differ = [n for n in with_adversary if not torch.allclose(with_adversary[n], without[n], atol=1e-9)]
    assert len(differ) == len(with_adversary)  # every generator parameter feels the discriminators
    # And the difference is lam_adv times the adversarial gradient (the loss is linear in lam_adv).
    doubled, _ = generator_gradients(0.1)
    name = next(iter(with_adversary))
    assert torch.allclose(
        doubled[name] - with_adversary[name], with_adversary[name] - without[name], atol=1e-6
    )


def test_discriminator_phase_leaves_the_generator_alone():
    torch.manual_seed(0)
    task = create_task("msgan", **SMALL)
    nets = NetworkSet(task, torch.device("cpu"), DistInfo())
    nets.wrap()
    loss, terms = task.d_loss(nets.view("discriminator"), clips_batch(), step=0)
    loss.backward()
    assert all(p.grad is None for p in nets.bare["generator"].parameters())
    assert all(p.grad is not None for p in nets.bare["discriminator"].parameters())
    assert 0 < terms["p_real"] < 1 and 0 < terms["p_fake"] < 1


def test_alternation_and_the_no_adversarial_mode():
    alternate = create_task("msgan", **SMALL)
    d, g = alternate.phases()
    assert [s for s in range(6) if d.due(s)] == [0, 2, 4] and [s for s in range(6) if g.due(s)] == [1, 3, 5]
    d, g = create_task("msgan", **SMALL, same_batch=True).phases()
    assert all(d.due(s) and g.due(s) for s in range(4))
    alone = create_task("msgan", **SMALL, adversarial=False)
    (phase,) = alone.phases()
    assert phase.trains == "generator" and phase.terms == ("lp", "gdl")
    assert set(alone.build_networks()) == {"generator"}


def test_paper_defaults_and_optimizers():
    task = create_task("msgan")
    o = task.options
    assert (o.history, o.scales, o.residual, o.upsampling, o.d_sees_history, o.width) == (
        4, 4, True, "nearest", True, 1.0,
    )  # fmt: skip
    assert (o.crop, o.lp, o.alpha, o.lam_lp, o.lam_gdl, o.lam_adv) == (32, 1, 1.0, 1.0, 1.0, 0.05)
    assert task.learning_rates(0, 10) == {"generator": 0.04, "discriminator": 0.02}
    small = create_task("msgan", **SMALL)
    optimizers = small.configure_optimizers(small_nets(small))
    assert all(isinstance(opt, torch.optim.SGD) for opt in optimizers.values())
    adam = create_task("msgan", **SMALL, g_optimizer="adam", d_optimizer="adam")
    assert isinstance(adam.configure_optimizers(small_nets(adam))["generator"], torch.optim.Adam)
    assert adam.learning_rates(0, 10) == {"generator": 4e-5, "discriminator": 4e-5}


def small_nets(task):
    from framepred.tasks.base import Nets

    return Nets(task.build_networks())


def test_the_generator_loss_is_the_papers_sum_over_scales():
    torch.manual_seed(0)
    task = create_task("msgan", **SMALL, adversarial=False, lp=2, lam_gdl=0.0)
    nets = small_nets(task)
    clips = clips_batch()
    loss, terms = task.g_loss(nets, clips, 0)
    predictions = nets.generator(clips[:, :4])
    target = clips[:, 4]
    expected = sum(
        (p - torch.nn.functional.avg_pool2d(target, 2**k) if k else p - target).pow(2).mean()
        for k, p in zip((3, 2, 1, 0), predictions, strict=True)
    )
    assert loss.item() == pytest.approx(expected.item(), rel=1e-6) and terms["lp"] == pytest.approx(
        loss.item()
    )


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"crop": 24}, "--crop 24: .* at least 32"),
        ({"crop": 36}, "multiple of 8"),
        ({"lp": 3}, "--lp must be 1 or 2"),
        ({"alpha": 0.5}, "--alpha"),
        ({"lam_adv": 0.0}, "--no-adversarial"),
        ({"g_optimizer": "rmsprop"}, "--g-optimizer 'rmsprop'"),
        ({"d_lr": -1.0}, "--d-lr must be positive"),
        ({"adversarial_loss": "wgan"}, "unknown adversarial loss"),
        ({"d_clip": 0.1, "adversarial_loss": "hinge"}, "bce loss only"),
        ({"upsampling": "cubic"}, "upsampling"),
        ({"val_crop": 4}, "--val-crop"),
    ],
)
def test_options_it_cannot_take_are_refused_up_front(options, message):
    with pytest.raises(UsageError, match=message):
        create_task("msgan", **options)
    create_task("msgan", lam_adv=0.0, adversarial=False)  # no discriminators: no adversarial weight


def make_shards(root, frames=5, size=32):
    rng = np.random.default_rng(0)
    for name in ("a", "b"):
        (root / "frames" / name).mkdir(parents=True)
        for t in range(8):
            image = rng.integers(0, 256, (48, 56, 3), dtype=np.uint8)
            write_image(root / "frames" / name / f"{t:06d}.png", image)
    extract_clips(root / "frames", root / "clips", 24, size=size, frames=frames, shard_size=16, workers=1)
    return root / "clips"


def config(data, run_dir, **options):
    return TrainConfig(
        task="msgan", data=str(data), run_dir=str(run_dir), steps=4, batch_size=4, device="cpu", seed=3,
        save_every=4, val_every=4, task_options={**SMALL, **options},
    )  # fmt: skip


def test_trains_on_clip_shards_and_refuses_shards_of_another_length(tmp_path):
    shards = make_shards(tmp_path)
    result = train(config(shards, tmp_path / "run"))
    assert result.steps == 4 and (tmp_path / "run" / "checkpoints" / "last" / "model.safetensors").is_file()
    with open(tmp_path / "run" / "metrics.csv", newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["kind"] == "train"]
    assert [bool(r["D_loss"]) for r in rows] == [True, False, True, False]
    assert [bool(r["G_adv"]) for r in rows] == [False, True, False, True]
    with pytest.raises(DataError, match="its clips have 5 frames, the 'msgan' recipe needs 4"):
        train(config(shards, tmp_path / "other", history=3))


def test_learns_motion_copy_last_cannot_predict():
    """100 generator updates (the recipe's loss and optimizer) on texture sliding 2 px per frame:
    the prediction's error falls well below copy-last's on those clips."""
    torch.manual_seed(0)
    texture = torch.nn.functional.avg_pool2d(torch.rand(4, 3, 48, 48), 3, 1, 1)
    frames = [texture[:, :, 4:36, 4 + 2 * t : 36 + 2 * t] for t in range(5)]
    clips = torch.stack(frames, 1) * 2 - 1
    task = create_task("msgan", **SMALL, adversarial=False, g_optimizer="adam", g_lr=2e-3)
    nets = Nets(task.build_networks())
    optimizer = task.configure_optimizers(nets)["generator"]
    for step in range(100):
        loss, _ = task.g_loss(nets, clips, step)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        error = (nets.generator(clips[:, :4])[-1] - clips[:, 4]).abs().mean()
    copy_last_error = (clips[:, 3] - clips[:, 4]).abs().mean()
    assert error < 0.7 * copy_last_error, (float(error), float(copy_last_error))
