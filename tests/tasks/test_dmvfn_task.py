import math

import numpy as np
import pytest
import torch
from torch import nn

from framepred.errors import UsageError
from framepred.losses.perceptual import VGGPerceptualLoss
from framepred.losses.pixel import LaplacianLoss
from framepred.losses.vgg import vgg19_features
from framepred.tasks import create_task, list_tasks
from framepred.tasks.schedule import warmup_cosine

SMALL = {"features": [8] * 9}


def test_registry():
    assert "dmvfn" in list_tasks()
    with pytest.raises(UsageError, match="no option"):
        create_task("dmvfn", bogus=1)
    with pytest.raises(UsageError, match="no training recipe"):
        create_task("nope")


def test_official_schedule_values():
    lr = lambda i: warmup_cosine(i, 10_000, 1e-5, 1e-4, 1e-5, 2000)  # noqa: E731
    assert lr(0) == pytest.approx(1e-5)
    assert lr(1000) == pytest.approx(5.5e-5)
    assert lr(2000) == pytest.approx(1e-4)
    assert lr(6000) == pytest.approx(5.5e-5)  # cosine half-way
    assert lr(10_000) == pytest.approx(1e-5)
    assert lr(20_000) == pytest.approx(1e-5)  # clamped past the end
    warm = [lr(i) for i in range(0, 2001, 100)]
    assert all(a < b for a, b in zip(warm, warm[1:], strict=False))
    task = create_task("dmvfn")
    assert task.learning_rate(2000 + 4000, 10_000) == pytest.approx(
        1e-5 + 9e-5 * (0.5 + 0.5 * math.cos(math.pi / 2))
    )


def test_default_options_are_official():
    task = create_task("dmvfn")
    o = task.options
    assert (o.lr, o.warmup, o.weight_decay) == (1e-4, 2000, 1e-3)
    assert task.learning_rate(0, 10_000) == pytest.approx(1e-5)  # start and end: lr / 10
    assert task.learning_rate(10_000, 10_000) == pytest.approx(1e-5)
    assert (o.crop, o.block_decay, o.perceptual_weight, o.lap_levels) == (256, 0.8, 0.5, 5)


def test_crops_the_laplacian_loss_cannot_take_are_refused_up_front():
    for crop in (48, 100, 32):
        with pytest.raises(UsageError, match=f"--crop {crop}: .*multiple of 32 of at least 64"):
            create_task("dmvfn", crop=crop)
    with pytest.raises(UsageError, match="at least 3"):
        create_task("dmvfn", clip_frames=2)
    with pytest.raises(UsageError, match="routing"):
        create_task("dmvfn", model={"routing": "sometimes"})
    task = create_task("dmvfn", crop=None)
    with pytest.raises(UsageError, match="training frames of 100x64"):
        task.check_clip_size(64, 100)


def test_whole_non_square_frames_cannot_take_rotations():
    """A 90-degree turn of a 160x96 clip is 96x160, which does not stack with the unturned clips."""
    task = create_task("dmvfn", crop=None)
    with pytest.raises(UsageError, match="160x96 with --crop none: .*--no-rotate"):
        task.check_clip_size(96, 160)
    task.check_clip_size(96, 96)
    create_task("dmvfn", crop=None, rotate=False).check_clip_size(96, 160)


def test_every_consecutive_triplet_is_one_step():
    task = create_task("dmvfn", clip_frames=5)
    clips = torch.arange(2 * 5 * 3 * 2 * 2, dtype=torch.float32).view(2, 5, 3, 2, 2)
    steps = list(task.step_inputs(clips))
    assert len(steps) == 3 == task.rounds_per_batch()
    for k, x in enumerate(steps):
        assert x.shape == (2, 9, 2, 2)
        assert torch.equal(x[:, 0:3], clips[:, k])
        assert torch.equal(x[:, 6:9], clips[:, k + 2])


class FixedOutputs(nn.Module):
    """Returns known 'block outputs': the target plus a different offset pattern per block."""

    def __init__(self, patterns):
        super().__init__()
        self.patterns = patterns

    def forward(self, x, scale, training):
        return [x[:, 6:9] + p for p in self.patterns]


def test_loss_is_weighted_lap_sum_plus_perceptual():
    torch.manual_seed(0)
    x = torch.rand(1, 9, 64, 64)
    patterns = [0.05 * torch.randn(1, 3, 64, 64) for _ in range(9)]
    task = create_task("dmvfn", perceptual=False)
    loss, terms = task.loss(FixedOutputs(patterns), x)
    lap = LaplacianLoss()
    gt = x[:, 6:9]
    expected = sum(0.8 ** (8 - i) * lap(gt + p, gt).item() for i, p in enumerate(patterns))
    assert loss.item() == pytest.approx(expected, rel=1e-5)
    assert set(terms) == {"lap"}

    with_vgg = create_task("dmvfn")
    with_vgg.lap = LaplacianLoss()
    with_vgg.vgg = VGGPerceptualLoss(features=vgg19_features())
    loss2, terms2 = with_vgg.loss(FixedOutputs(patterns), x)
    vgg = with_vgg.vgg(gt + patterns[-1], gt).item()
    assert loss2.item() == pytest.approx(expected + 0.5 * vgg, rel=1e-5)
    assert terms2["vgg"] == pytest.approx(vgg, rel=1e-5)


def test_real_dmvfn_step_backpropagates():
    torch.manual_seed(0)
    task = create_task("dmvfn", perceptual=False, model=SMALL)
    model = task.build_model()
    loss, _ = task.loss(model, torch.rand(2, 9, 64, 64))
    loss.backward()
    assert torch.isfinite(loss)
    assert model.block0.conv0[0][0].weight.grad.abs().sum() > 0
    optimizer = task.configure_optimizer(model)
    assert optimizer.param_groups[0]["weight_decay"] == 1e-3
    assert isinstance(optimizer, torch.optim.AdamW)


def test_augmentation_options_follow_the_task():
    aug = create_task("dmvfn", crop=64, flip=False).data().augment
    assert (aug.crop, aug.flip, aug.rotate, aug.channel_swap) == (64, False, True, True)
    assert np.isclose(0.8**8, 0.16777216)
