"""Shape checks shared by every metric: same-shaped ``B x C x H x W`` (or ``C x H x W``) float tensors."""

from __future__ import annotations

import torch

from framepred.errors import DataError


def check_pair(pred: torch.Tensor, gt: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Return both tensors as ``B x C x H x W`` floats, or raise :class:`DataError` on a shape mismatch."""
    if pred.dim() == 3:
        pred = pred.unsqueeze(0)
    if gt.dim() == 3:
        gt = gt.unsqueeze(0)
    if pred.dim() != 4 or gt.dim() != 4:
        raise DataError(
            f"metrics take B x C x H x W (or C x H x W) tensors, got shapes {tuple(pred.shape)} and "
            f"{tuple(gt.shape)}"
        )
    if pred.shape != gt.shape:
        raise DataError(
            f"prediction and ground truth differ in size: {size_text(pred)} vs {size_text(gt)}; "
            "compare frames of the same size (resize or crop one of them)"
        )
    if not pred.is_floating_point():
        pred = pred.float()
    if not gt.is_floating_point():
        gt = gt.float()
    return pred, gt


def size_text(t: torch.Tensor) -> str:
    """``B x C x H x W`` shape as ``"HxW (C channels, B frames)"`` for messages."""
    b, c, h, w = t.shape
    return f"{h}x{w} ({c} channels, {b} frames)"
