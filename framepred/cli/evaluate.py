"""`framepred evaluate` (filled in by its issue)."""

from __future__ import annotations

from framepred.errors import UsageError


def command() -> None:
    """Score predictions (PSNR, SSIM, MS-SSIM, LPIPS) per horizon against ground truth or on a frame tree."""
    raise UsageError("`framepred evaluate` is not available yet in this version")
