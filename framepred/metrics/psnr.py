"""PSNR per frame: ``10 * log10(MAX^2 / MSE)`` with the MSE over all pixels and channels of one frame.

Papers (DMVFN, OpenSTL, vp-suite) average per-frame PSNRs, never the PSNR of a pooled MSE, so this
returns one value per frame and leaves averaging to the caller. A perfect prediction (MSE = 0) would be
infinite; it is capped at ``max_db`` so means stay finite.
"""

from __future__ import annotations

import math

import torch

from framepred.metrics.checks import check_pair

PSNR_CAP_DB = 100.0


def psnr(
    pred: torch.Tensor, gt: torch.Tensor, data_range: float = 1.0, max_db: float = PSNR_CAP_DB
) -> torch.Tensor:
    """PSNR in dB of each frame of ``B x C x H x W`` batches, as a float64 tensor of shape ``B``.

    ``data_range`` is the peak value (1 for [0, 1] floats, 255 for 8-bit values); values above
    ``max_db`` (including the infinite value of an exact match) are capped to it.
    """
    pred, gt = check_pair(pred, gt)
    # The difference of two float32 values in [0, 1] is (nearly) exact; each row of squares is summed
    # in float32 (a short sum) and the rows in float64, so long sums over large frames do not lose
    # the small errors of good predictions, without a float64 copy of the frames.
    squares = torch.sub(pred, gt).square_()
    mse = squares.sum(dim=3).sum(dim=(1, 2), dtype=torch.float64) / squares[0].numel()
    peak = 20.0 * math.log10(data_range)
    # log10(0) = -inf -> +inf dB, which the cap turns into max_db.
    db = peak - 10.0 * torch.log10(mse)
    return db.clamp(max=max_db)
