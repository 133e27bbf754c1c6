"""Sharpness difference (Mathieu, Couprie & LeCun, ICLR 2016) and a moving-area mask.

Sharpness difference, as the authors' evaluation code computes it (spec msgan.md §8): with frames
mapped to [-1, 1], ``gx(I)[i, j] = |I[i, j] - I[i, j-1]|`` and ``gy(I)[i, j] = |I[i, j] - I[i-1, j]|``,
``D = |gx(P) - gx(Y)| + |gy(P) - gy(Y)|`` summed over every channel and over the interior pixels only
(the first and last row and column are dropped), divided by the *full* element count C x H x W and
multiplied by 128 x 128; the result ``e`` (floored at 1e-4) gives ``10 log10(255^2 / e)`` dB. Higher
means the prediction's edges match the truth's better; identical frames give the floor, 88.13 dB.

Moving-area mask (the paper scores its UCF101 table on moving pixels only): the authors' mask comes
from precomputed optical-flow images; this one needs no flow. A pixel moves when some channel of
the true frame differs from the true frame before it by more than ``threshold`` (in [0, 1] units),
optionally grown by ``dilation`` pixels. Scoring follows the authors' script: every static pixel is
set to black in both the prediction and the truth, then the metric runs on the whole frame, so
static pixels count as perfectly predicted.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from framepred.errors import DataError
from framepred.metrics.checks import check_pair

SHARPNESS_FLOOR = 1e-4  # the authors' epsilon on the mean gradient difference
SHARPNESS_MIN_SIDE = 3  # an interior needs at least 3 rows and columns
DEFAULT_MOVING_THRESHOLD = 0.05  # about 13 grey levels
MIN_MOVING_FRACTION = 0.01  # frames with fewer moving pixels are not scored under a mask


def _gradients(frames: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """|I[i,j] - I[i,j-1]| and |I[i,j] - I[i-1,j]|, the shifted copy zero-padded (as the original)."""
    left = F.pad(frames, (1, 0, 0, 0))[..., :, :-1]
    above = F.pad(frames, (0, 0, 1, 0))[..., :-1, :]
    return (frames - left).abs(), (frames - above).abs()


def sharpness_difference(pred: torch.Tensor, gt: torch.Tensor) -> torch.Tensor:
    """Sharpness difference in dB of each frame of ``B x C x H x W`` batches in [0, 1] (float64, ``B``)."""
    pred, gt = check_pair(pred, gt)
    height, width = pred.shape[-2:]
    if min(height, width) < SHARPNESS_MIN_SIDE:
        raise DataError(
            f"sharpness difference needs frames of at least {SHARPNESS_MIN_SIDE}x{SHARPNESS_MIN_SIDE} px, "
            f"got {height}x{width}; leave sharpness out for frames this small"
        )
    # In [-1, 1] units, as the original: 2x - 1 doubles every difference.
    pred_x, pred_y = _gradients(pred.double() * 2.0 - 1.0)
    gt_x, gt_y = _gradients(gt.double() * 2.0 - 1.0)
    difference = (pred_x - gt_x).abs() + (pred_y - gt_y).abs()
    total = difference[..., 1:-1, 1:-1].sum(dim=(1, 2, 3))
    error = (128.0 * 128.0 * total / pred[0].numel()).clamp_min(SHARPNESS_FLOOR)
    return 10.0 * math.log10(255.0**2) - 10.0 * torch.log10(error)


def moving_mask(
    previous: torch.Tensor,
    target: torch.Tensor,
    threshold: float = DEFAULT_MOVING_THRESHOLD,
    dilation: int = 0,
) -> torch.Tensor:
    """``B x 1 x H x W`` booleans: where ``target`` changed by more than ``threshold`` since ``previous``."""
    previous, target = check_pair(previous, target)
    moving = (target - previous).abs().amax(dim=1, keepdim=True) > threshold
    if dilation > 0:
        size = 2 * dilation + 1
        moving = F.max_pool2d(moving.float(), size, stride=1, padding=dilation) > 0
    return moving


def keep_moving(frames: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """``frames`` with every static pixel set to black (-1 in the original's [-1, 1] units)."""
    return torch.where(mask, frames, torch.zeros((), dtype=frames.dtype, device=frames.device))


def scored_frames(mask: torch.Tensor, min_fraction: float = MIN_MOVING_FRACTION) -> torch.Tensor:
    """Which frames a masked score keeps: those with at least ``min_fraction`` of their pixels moving."""
    return mask.flatten(1).float().mean(dim=1) >= min_fraction
