"""All metrics at once on batches of frame pairs, with the conventions recorded for the report.

:class:`MetricSuite` returns per-frame values (float64, on the CPU) for each metric it could compute.
A metric that cannot run is left out with a note, never a crash: MS-SSIM on frames with a short side
under 161 px, SSIM under 11 px, LPIPS under 31 px or without its backbone file (offline).

With ``moving_mask`` (a threshold), PSNR, SSIM and the sharpness difference score only the pixels that
change between the true frame before each target and the target (see ``metrics.sharpness``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from framepred.errors import DataError, UsageError, WeightsMissingError
from framepred.metrics.alexnet import ALEXNET_MIN_SIDE
from framepred.metrics.checks import check_pair
from framepred.metrics.lpips import LPIPS
from framepred.metrics.psnr import PSNR_CAP_DB, psnr
from framepred.metrics.sharpness import (
    MIN_MOVING_FRACTION,
    SHARPNESS_MIN_SIDE,
    keep_moving,
    moving_mask,
    scored_frames,
    sharpness_difference,
)
from framepred.metrics.ssim import MS_SSIM_MIN_SIDE, MS_SSIM_WEIGHTS, SSIM_MIN_SIDE, ssim_and_ms_ssim
from framepred.metrics.weights import ALEXNET_FILE

DEFAULT_METRICS = ("psnr", "ssim", "msssim", "lpips")
METRIC_NAMES = (*DEFAULT_METRICS, "sharpness")
_ALIASES = {"ms-ssim": "msssim", "ms_ssim": "msssim", "sharpdiff": "sharpness", "sharp": "sharpness"}
# Higher is better for all but LPIPS (a distance).
HIGHER_IS_BETTER = {"psnr": True, "ssim": True, "msssim": True, "lpips": False, "sharpness": True}
_MIN_SIDE = {
    "ssim": SSIM_MIN_SIDE,
    "msssim": MS_SSIM_MIN_SIDE,
    "lpips": ALEXNET_MIN_SIDE,
    "sharpness": SHARPNESS_MIN_SIDE,
}
_LABEL = {"psnr": "PSNR", "ssim": "SSIM", "msssim": "MS-SSIM", "lpips": "LPIPS", "sharpness": "Sharpness"}
MASKED_METRICS = ("psnr", "ssim", "sharpness")


def parse_metric_names(names: str | Iterable[str] | None) -> tuple[str, ...]:
    """``"psnr,ssim"`` or a list to canonical names in the standard order; ``None`` means the first
    four (PSNR, SSIM, MS-SSIM, LPIPS)."""
    if names is None:
        return DEFAULT_METRICS
    if isinstance(names, str):
        names = names.split(",")
    wanted = set()
    for raw in names:
        name = raw.strip().lower()
        if not name:
            continue
        name = _ALIASES.get(name, name)
        if name not in METRIC_NAMES:
            raise UsageError(f"unknown metric {raw.strip()!r}: choose from {', '.join(METRIC_NAMES)}")
        wanted.add(name)
    if not wanted:
        raise UsageError(f"no metric given: choose from {', '.join(METRIC_NAMES)}")
    return tuple(n for n in METRIC_NAMES if n in wanted)


@dataclass
class Target:
    """A ground-truth batch on the suite's device, with what the metrics can reuse across predictions."""

    frames: torch.Tensor
    lpips_features: list[torch.Tensor] | None = None


class MetricSuite:
    """Computes the requested metrics on ``B x 3 x H x W`` batches in [0, 1] (predictions are clipped).

    ``names`` (e.g. ``"psnr,lpips"``) are required: one that cannot run raises an error naming the fix.
    ``None`` means all four, each left out with a note when it cannot run. ``lpips_weights`` replaces
    the AlexNet backbone file (else ``$FRAMEPRED_LPIPS_WEIGHTS`` or the torch hub cache); ``bgr_lpips``
    feeds LPIPS BGR frames like DMVFN's evaluation. ``notes`` collects one message per metric that was
    left out, for the caller to show. ``moving_mask``: a threshold in [0, 1] units; PSNR, SSIM and sharpness
    then score moving pixels only (MS-SSIM and LPIPS cannot: an error when asked for, else left out)
    and ``compute`` needs the true frame before each target.
    """

    def __init__(
        self,
        names: str | Iterable[str] | None = None,
        device: str | torch.device = "cpu",
        lpips_weights: str | os.PathLike | None = None,
        bgr_lpips: bool = False,
        lpips_model: LPIPS | None = None,
        moving_mask: float | None = None,
    ) -> None:
        self.names = parse_metric_names(names)
        self.required = names is not None
        self.device = torch.device(device)
        self.bgr_lpips = bgr_lpips
        self.notes: dict[str, str] = {}
        self.lpips: LPIPS | None = None
        self.moving_threshold = moving_mask
        self.static_frames = 0  # frames the mask left unscored (too few moving pixels)
        if moving_mask is not None:
            if not 0.0 <= moving_mask < 1.0:
                raise UsageError(f"--moving-mask is a threshold in [0, 1), got {moving_mask}")
            for name in self.names:
                if name not in MASKED_METRICS and self.required:
                    raise UsageError(
                        f"{_LABEL[name]} cannot score moving pixels only (PSNR, SSIM and sharpness can); "
                        f"leave {name} out of --metrics or drop --moving-mask"
                    )
                if name not in MASKED_METRICS:
                    self.notes[name] = (
                        f"{_LABEL[name]} left out: the moving-area mask applies to PSNR, SSIM and sharpness"
                    )
        if "lpips" in self.names and moving_mask is None:
            try:
                model = lpips_model if lpips_model is not None else LPIPS.load(lpips_weights, bgr=bgr_lpips)
            except WeightsMissingError as exc:
                if self.required:
                    raise WeightsMissingError(f"{exc}; or leave lpips out of --metrics") from None
                self.notes["lpips"] = f"LPIPS left out: {exc}"
            else:
                model.bgr = bgr_lpips
                self.lpips = model.to(self.device)

    def _left_out(self, name: str, height: int, width: int) -> bool:
        if name == "lpips" and self.lpips is None:
            return True
        if self.moving_threshold is not None and name not in MASKED_METRICS:
            return True
        minimum = _MIN_SIDE.get(name)
        if minimum is not None and min(height, width) < minimum:
            reason = f"it needs a short side of at least {minimum} px"
            if self.required:
                raise DataError(
                    f"{_LABEL[name]} cannot score {height}x{width} frames: {reason}; "
                    f"leave {name} out of --metrics"
                )
            self.notes.setdefault(name, f"{_LABEL[name]} left out for {height}x{width} frames: {reason}")
            return True
        return False

    def target(self, gt: torch.Tensor) -> Target:
        """``gt`` (``B x 3 x H x W``) on the suite's device, with its LPIPS features computed once."""
        if gt.dim() == 3:
            gt = gt.unsqueeze(0)
        with torch.inference_mode():
            frames = gt.to(self.device).float()
            features = None
            height, width = frames.shape[-2:]
            if "lpips" in self.names and not self._left_out("lpips", height, width):
                features = self.lpips.features(frames)
        return Target(frames, features)

    def compute(
        self, pred: torch.Tensor, gt: torch.Tensor | Target, previous: torch.Tensor | None = None
    ) -> dict[str, torch.Tensor]:
        """Per-frame values ``{name: float64 tensor of shape B}`` for every metric that could run.
        ``gt`` is a tensor or a :meth:`target` (reused for several predictions). ``previous``: the true
        frames before ``gt``, needed by the moving-area mask only; frames with too few moving pixels
        are then not scored, so a tensor may hold fewer than B values."""
        target = gt if isinstance(gt, Target) else None
        pred, gt = check_pair(pred, target.frames if target is not None else gt)
        height, width = pred.shape[-2:]
        active = [n for n in self.names if not self._left_out(n, height, width)]
        results: dict[str, torch.Tensor] = {}
        if not active:
            return results
        with torch.inference_mode():
            pred = pred.to(self.device).clamp(0.0, 1.0)
            gt = gt.to(self.device)
            if self.moving_threshold is not None:
                pred, gt = self._moving_only(pred, gt, previous)
                if not len(pred):
                    return results
            if "psnr" in active:
                results["psnr"] = psnr(pred, gt)
            if "ssim" in active or "msssim" in active:
                ssim_value, ms_value = ssim_and_ms_ssim(pred, gt, with_ms_ssim="msssim" in active)
                if "ssim" in active:
                    results["ssim"] = ssim_value
                if ms_value is not None:
                    results["msssim"] = ms_value
            if "lpips" in active and target is not None and target.lpips_features is not None:
                results["lpips"] = self.lpips.distance(
                    self.lpips.features(pred), target.lpips_features, consume=True
                )
            elif "lpips" in active:
                results["lpips"] = self.lpips(pred, gt)
            if "sharpness" in active:
                results["sharpness"] = sharpness_difference(pred, gt)
        return {n: results[n].cpu() for n in self.names if n in results}

    def _moving_only(
        self, pred: torch.Tensor, gt: torch.Tensor, previous: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        if previous is None:
            raise UsageError(
                "the moving-area mask needs the true frame before each target; it works on a frame "
                "tree (--data), not on two folders"
            )
        mask = moving_mask(previous.to(self.device), gt, self.moving_threshold)
        keep = scored_frames(mask)
        self.static_frames += int((~keep).sum())
        return keep_moving(pred, mask)[keep], keep_moving(gt, mask)[keep]

    def settings(self) -> dict[str, Any]:
        """The conventions behind the numbers, for the report's ``settings``."""
        conventions = {
            "psnr": f"per frame, 10*log10(1/MSE) over all pixels and channels, capped at {PSNR_CAP_DB:g} dB",
            "ssim": "Gaussian window 11, sigma 1.5, K=(0.01, 0.03), population covariance, valid window "
            "(= pytorch_msssim.ssim, data_range=1)",
            "msssim": f"5 scales, weights {list(MS_SSIM_WEIGHTS)}, needs short side >= {MS_SSIM_MIN_SIDE} px "
            "(= pytorch_msssim.ms_ssim, data_range=1)",
            "sharpness": "sharpness difference of Mathieu et al.'s evaluation code: 10*log10(255^2 / e), "
            "e = 128^2 * sum of gradient differences ([-1,1] units, interior pixels) / (C*H*W), floor 1e-4",
        }
        out: dict[str, Any] = {
            "metrics": list(self.names),
            "data_range": 1.0,
            "predictions_clipped": True,
            "aggregation": "mean of per-frame values",
            **{name: text for name, text in conventions.items() if name in self.names},
        }
        if "lpips" in self.names and self.moving_threshold is None:
            out["lpips"] = self._lpips_settings()
        if self.moving_threshold is not None:
            out["moving_mask"] = {
                "threshold": self.moving_threshold,
                "rule": "a pixel moves when a channel of the target differs from the true frame before it "
                "by more than the threshold ([0,1] units); static pixels are set to black in prediction "
                "and truth and the metrics run on the whole frame (as Mathieu et al.'s evaluation script)",
                "min_moving_fraction": MIN_MOVING_FRACTION,
                "frames_not_scored": self.static_frames,
            }
        if self.notes:
            out["left_out"] = dict(self.notes)
        return out

    def _lpips_settings(self) -> dict[str, Any]:
        info: dict[str, Any] = {
            "net": "alex",
            "version": "0.1",
            "colour_order": "BGR (DMVFN-table compatible)" if self.bgr_lpips else "RGB",
        }
        if self.lpips is None:
            info["backbone"] = "unavailable"
            return info
        backbone = self.lpips.backbone
        if backbone is not None and backbone.custom:
            info["backbone"] = "custom backbone"
        elif backbone is not None:
            info["backbone"] = f"{ALEXNET_FILE} (torchvision AlexNet IMAGENET1K_V1)"
        else:
            info["backbone"] = "in-memory weights"
        if backbone is not None:
            info["backbone_path"] = str(backbone.path)
            info["backbone_sha256"] = backbone.sha256
        if self.lpips.lin_file is not None:
            info["lin_sha256"] = self.lpips.lin_file.sha256
        return info


def compute_metrics(
    pred: torch.Tensor, gt: torch.Tensor, names: str | Sequence[str] | None = None, **suite_options: Any
) -> dict[str, torch.Tensor]:
    """One-off convenience: per-frame values of ``names`` (default all) for ``B x 3 x H x W`` batches."""
    return MetricSuite(names, **suite_options).compute(pred, gt)
