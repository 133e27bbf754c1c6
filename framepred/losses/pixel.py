"""Pixel losses: plain L1 and the Laplacian-pyramid L1 used by DMVFN (spec dmvfn.md §7.1).

The pyramid: a fixed 5x5 binomial kernel applied per channel with 2-pixel reflect padding. At each of
``levels`` levels the current image is blurred and subsampled (``down``), ``down`` is upsampled by zero
insertion and blurred with the kernel times 4 (``up``), and the band ``current - up`` is kept. The final
low-pass residual is not part of the loss.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def l1_loss(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean absolute difference."""
    return (prediction - target).abs().mean()


def gaussian_kernel(channels: int = 3) -> torch.Tensor:
    """The 5x5 binomial kernel [1,4,6,4,1]^T [1,4,6,4,1] / 256, one copy per channel (depthwise)."""
    taps = torch.tensor([1.0, 4.0, 6.0, 4.0, 1.0])
    kernel = torch.outer(taps, taps) / 256.0
    return kernel.expand(channels, 1, 5, 5).contiguous()


def gaussian_blur(images: torch.Tensor, sigma: float) -> torch.Tensor:
    """``N x C x H x W`` images blurred per channel by a separable Gaussian of ``sigma`` pixels (radius
    ceil(3 sigma), at least 1; reflected borders, so the sides must exceed the radius)."""
    radius = max(1, math.ceil(3 * sigma))
    offsets = torch.arange(-radius, radius + 1, dtype=images.dtype, device=images.device)
    taps = torch.exp(-(offsets**2) / (2 * sigma**2))
    taps = taps / taps.sum()
    channels = images.shape[1]
    padded = F.pad(images, (radius, radius, radius, radius), mode="reflect")
    across = F.conv2d(padded, taps.view(1, 1, 1, -1).expand(channels, 1, 1, -1), groups=channels)
    return F.conv2d(across, taps.view(1, 1, -1, 1).expand(channels, 1, -1, 1), groups=channels)


def _blur(image: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    padded = F.pad(image, (2, 2, 2, 2), mode="reflect")
    return F.conv2d(padded, kernel, groups=image.shape[1])


def _upsample(image: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    # Zero insertion doubles each side; the blur with kernel x 4 restores the mean brightness.
    b, c, h, w = image.shape
    up = image.new_zeros(b, c, h * 2, w * 2)
    up[:, :, ::2, ::2] = image
    return _blur(up, kernel * 4.0)


def laplacian_pyramid(image: torch.Tensor, kernel: torch.Tensor, levels: int = 5) -> list[torch.Tensor]:
    """The ``levels`` band-pass images of ``image`` (finest first), without the low-pass residual."""
    bands = []
    current = image
    for _ in range(levels):
        down = _blur(current, kernel)[:, :, ::2, ::2]
        up = _upsample(down, kernel)
        bands.append(current - up)
        current = down
    return bands


class LaplacianLoss(nn.Module):
    """Sum over pyramid levels of the mean absolute difference of the bands.

    Sides must be multiples of ``2 ** levels`` and at least twice that (reflect padding needs more than 2
    pixels at the coarsest level, and each band must match its upsampled low-pass).
    """

    def __init__(self, levels: int = 5, channels: int = 3) -> None:
        super().__init__()
        self.levels = levels
        self.register_buffer("kernel", gaussian_kernel(channels), persistent=False)

    def forward(self, prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return self.weighted_sum([prediction], target, [1.0])

    def weighted_sum(
        self, predictions: list[torch.Tensor], target: torch.Tensor, weights: list[float]
    ) -> torch.Tensor:
        """``sum_i weights[i] * loss(predictions[i], target)`` in one pass over the pyramid.

        The pyramid is linear (padding, blur, subsampling and zero insertion all are), so the bands of
        ``prediction - target`` are the differences of their bands: one pyramid of the stacked
        differences replaces two per prediction (a third of a DMVFN training step on the CPU)."""
        h, w = target.shape[-2:]
        multiple = 2**self.levels
        if h % multiple or w % multiple or min(h, w) < 2 * multiple:
            raise ValueError(
                f"Laplacian loss with {self.levels} levels needs sides that are multiples of {multiple} "
                f"and at least {2 * multiple} pixels, got {h}x{w}"
            )
        count = len(predictions)
        difference = torch.stack(predictions) - target  # count x B x C x H x W
        kernel = self.kernel.to(dtype=difference.dtype)
        bands = laplacian_pyramid(difference.flatten(0, 1), kernel, self.levels)
        per_prediction = sum(band.abs().reshape(count, -1).mean(1) for band in bands)
        return (per_prediction * per_prediction.new_tensor(weights)).sum()
