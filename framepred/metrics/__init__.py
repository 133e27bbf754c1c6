"""Frame-quality metrics (PSNR, SSIM, MS-SSIM, LPIPS) that match the papers' libraries, and evaluation.

Functional API (``B x C x H x W`` tensors in [0, 1], one float64 value per frame)::

    from framepred import metrics
    metrics.psnr(pred, gt)          # dB, capped at 100 for a perfect match
    metrics.ssim(pred, gt)          # = pytorch_msssim.ssim(data_range=1)
    metrics.ms_ssim(pred, gt)       # = pytorch_msssim.ms_ssim(data_range=1), short side >= 161 px
    metrics.LPIPS.load()(pred, gt)  # = lpips.LPIPS(net="alex") on RGB frames
    metrics.compute_metrics(pred, gt, "psnr,ssim")  # {name: per-frame values}

``MetricSuite`` keeps the LPIPS network between batches and records the settings for a report.
"""

from framepred.metrics.lpips import LPIPS
from framepred.metrics.psnr import PSNR_CAP_DB, psnr
from framepred.metrics.ssim import MS_SSIM_MIN_SIDE, ms_ssim, ssim, ssim_and_ms_ssim
from framepred.metrics.suite import METRIC_NAMES, MetricSuite, compute_metrics, parse_metric_names
from framepred.metrics.weights import locate_backbone, locate_lin_weights

__all__ = [
    "LPIPS",
    "METRIC_NAMES",
    "MS_SSIM_MIN_SIDE",
    "PSNR_CAP_DB",
    "MetricSuite",
    "compute_metrics",
    "locate_backbone",
    "locate_lin_weights",
    "ms_ssim",
    "parse_metric_names",
    "psnr",
    "ssim",
    "ssim_and_ms_ssim",
]
