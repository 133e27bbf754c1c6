"""Adversarial losses, written once for every GAN recipe: non-saturating BCE, least squares, hinge.

Discriminators output raw scores (logits); several discriminators (one per scale) give a list of
scores, and the losses are summed over the list. With ``real``/``fake`` the discriminator's scores
on real and generated data:

* ``bce``: D minimises BCE(real, real_label) + BCE(fake, fake_label); G minimises BCE(fake, 1), the
  non-saturating loss of Goodfellow et al. ``real_label=0.9`` is one-sided label smoothing;
  ``clip=c`` clamps D's probabilities to [c, 1 - c] first (the TensorFlow port of Mathieu et al. used
  0.1; note the gradient is zero outside that band).
* ``lsgan``: D minimises mean((real - real_label)^2) + mean((fake - fake_label)^2), G minimises
  mean((fake - 1)^2) (Mao et al., with a = 0, b = c = 1).
* ``hinge``: D minimises mean(relu(1 - real)) + mean(relu(1 + fake)), G minimises -mean(fake).

Each term is a mean over its elements (batch and, for patch discriminators, positions).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

from framepred.errors import UsageError

KINDS = ("bce", "lsgan", "hinge")
Scores = torch.Tensor | Sequence[torch.Tensor]


def check_kind(
    kind: str, real_label: float = 1.0, fake_label: float = 0.0, clip: float | None = None
) -> None:
    """Refuse an unknown loss or options that do not apply to it (UsageError naming the option)."""
    if kind not in KINDS:
        raise UsageError(f"unknown adversarial loss {kind!r}: choose one of {', '.join(KINDS)}")
    if clip is not None and (kind != "bce" or not 0.0 < clip < 0.5):
        raise UsageError("probability clipping applies to the bce loss only, with a value in (0, 0.5)")
    if kind == "hinge" and (real_label, fake_label) != (1.0, 0.0):
        raise UsageError("the hinge loss has no labels to smooth; use bce or lsgan for label smoothing")


def _as_list(scores: Scores) -> list[torch.Tensor]:
    return [scores] if isinstance(scores, torch.Tensor) else list(scores)


def _bce(scores: torch.Tensor, label: float, clip: float | None) -> torch.Tensor:
    scores = scores.float()
    if clip is None:
        return F.binary_cross_entropy_with_logits(scores, torch.full_like(scores, label))
    probability = torch.sigmoid(scores).clamp(clip, 1.0 - clip)
    return -(label * probability.log() + (1.0 - label) * (1.0 - probability).log()).mean()


def discriminator_loss(
    real: Scores,
    fake: Scores,
    kind: str = "bce",
    real_label: float = 1.0,
    fake_label: float = 0.0,
    clip: float | None = None,
) -> torch.Tensor:
    """The discriminator's loss, summed over discriminators (matching lists of real and fake scores)."""
    total = 0.0
    for r, f in zip(_as_list(real), _as_list(fake), strict=True):
        if kind == "bce":
            total = total + _bce(r, real_label, clip) + _bce(f, fake_label, clip)
        elif kind == "lsgan":
            total = total + (r.float() - real_label).pow(2).mean() + (f.float() - fake_label).pow(2).mean()
        elif kind == "hinge":
            total = total + F.relu(1.0 - r.float()).mean() + F.relu(1.0 + f.float()).mean()
        else:
            check_kind(kind)
    return total


def generator_loss(fake: Scores, kind: str = "bce", clip: float | None = None) -> torch.Tensor:
    """The generator's adversarial loss, summed over discriminators."""
    total = 0.0
    for f in _as_list(fake):
        if kind == "bce":
            total = total + _bce(f, 1.0, clip)
        elif kind == "lsgan":
            total = total + (f.float() - 1.0).pow(2).mean()
        elif kind == "hinge":
            total = total - f.float().mean()
        else:
            check_kind(kind)
    return total
