"""SSIM as a training term: differentiable, with the conventions of ``framepred.metrics.ssim``.

The metric module computes SSIM with in-place buffers (fast, no gradient); training terms such as
``1 - SSIM`` use ``pytorch_msssim``, whose settings the metric reproduces (11-tap Gaussian window,
sigma 1.5, K = (0.01, 0.03), valid filtering), so a loss and its reported metric agree.
"""

from __future__ import annotations

import torch


def ssim_similarity(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean SSIM of ``B x C x H x W`` batches in [0, 1] (a differentiable float32 scalar)."""
    from pytorch_msssim import ssim

    return ssim(prediction.float(), target.float(), data_range=1.0, size_average=True)
