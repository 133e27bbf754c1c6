"""The gradient difference loss (GDL) of Mathieu, Couprie & LeCun (ICLR 2016; spec msgan.md §4).

It compares the *magnitudes* of neighbouring-pixel differences of the prediction and the target,
along both axes: ``| |Y[i,j] - Y[i-1,j]| - |P[i,j] - P[i-1,j]| |^alpha`` plus the same along j,
over every pair of neighbours inside the frame (no padding), per channel. Each axis is averaged over
its pairs and the two averages are summed, as the authors' Torch criterion does (two mean absolute
errors). The Chainer port's variant (signed differences summed over the colour channels) is not this.
"""

from __future__ import annotations

import torch


def gradient_difference_loss(
    prediction: torch.Tensor, target: torch.Tensor, alpha: float = 1.0
) -> torch.Tensor:
    """GDL of ``B x C x H x W`` batches: the mean over pairs along H plus the mean along W."""
    total = prediction.new_zeros(())
    for dim in (-2, -1):
        pred_grad = prediction.diff(dim=dim).abs()
        target_grad = target.diff(dim=dim).abs()
        difference = (target_grad - pred_grad).abs()
        total = total + (difference if alpha == 1 else difference.pow(alpha)).mean()
    return total
