"""The adversarial losses against their formulas, written out independently here."""

import math

import pytest
import torch

from framepred.errors import UsageError
from framepred.losses.adversarial import check_kind, discriminator_loss, generator_loss


def _log_sigmoid(x: float) -> float:
    return -math.log1p(math.exp(-x))


def test_bce_is_the_non_saturating_gan_loss():
    real, fake = torch.tensor([2.0, -1.0]), torch.tensor([0.5, -3.0])
    d = discriminator_loss(real, fake, "bce")
    expected_d = (
        -sum(_log_sigmoid(r) for r in (2.0, -1.0)) / 2 - sum(_log_sigmoid(-f) for f in (0.5, -3.0)) / 2
    )
    assert d.item() == pytest.approx(expected_d, rel=1e-6)
    g = generator_loss(fake, "bce")
    assert g.item() == pytest.approx(-sum(_log_sigmoid(f) for f in (0.5, -3.0)) / 2, rel=1e-6)


def test_label_smoothing_and_probability_clipping():
    real, fake = torch.tensor([3.0]), torch.tensor([-4.0])
    p_real, p_fake = 1 / (1 + math.exp(-3.0)), 1 / (1 + math.exp(4.0))
    smooth = discriminator_loss(real, fake, "bce", real_label=0.9)
    expected = -(0.9 * math.log(p_real) + 0.1 * math.log(1 - p_real)) - math.log(1 - p_fake)
    assert smooth.item() == pytest.approx(expected, rel=1e-5)
    clipped = discriminator_loss(real, fake, "bce", clip=0.1)  # both probabilities beyond the band
    assert clipped.item() == pytest.approx(-2 * math.log(0.9), rel=1e-5)


def test_least_squares_and_hinge():
    real, fake = torch.tensor([0.5, 2.0]), torch.tensor([0.25, -2.0])
    assert discriminator_loss(real, fake, "lsgan").item() == pytest.approx(
        ((0.5 - 1) ** 2 + (2 - 1) ** 2) / 2 + (0.25**2 + 2.0**2) / 2
    )
    assert generator_loss(fake, "lsgan").item() == pytest.approx(((0.25 - 1) ** 2 + (-2 - 1) ** 2) / 2)
    assert discriminator_loss(real, fake, "hinge").item() == pytest.approx((0.5 + 0) / 2 + (1.25 + 0) / 2)
    assert generator_loss(fake, "hinge").item() == pytest.approx(-(0.25 - 2.0) / 2)


def test_several_discriminators_are_summed_and_gradients_reach_the_generator():
    fake = torch.zeros(3, requires_grad=True)
    scores = [fake[:1] * 2, fake[1:] + 1]  # two "discriminators" on parts of the generator's output
    loss = generator_loss(scores, "bce")
    expected = -(_log_sigmoid(0.0) + _log_sigmoid(1.0))
    assert loss.item() == pytest.approx(expected, rel=1e-6)
    loss.backward()
    assert fake.grad.abs().sum() > 0


def test_options_that_do_not_apply_are_refused():
    with pytest.raises(UsageError, match="unknown adversarial loss 'wgan'"):
        check_kind("wgan")
    with pytest.raises(UsageError, match="bce loss only"):
        check_kind("lsgan", clip=0.1)
    with pytest.raises(UsageError, match="no labels to smooth"):
        check_kind("hinge", real_label=0.9)
    with pytest.raises(UsageError):
        discriminator_loss(torch.zeros(1), torch.zeros(1), "wgan")
