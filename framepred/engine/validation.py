"""Validation during training: next-frame error of the model and of copy-last on held-out triplets.

The triplets (t-1, t, t+1) are spread evenly over the validation split, centre-cropped to the training
crop (at most; rounded down to a multiple of 16, which every registered model accepts), decoded once
and kept in memory. Copy-last's numbers are computed once: they are the bar the model must clear.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from framepred.data.tree import Sequence
from framepred.errors import DataError

SIZE_MULTIPLE = 16


def _centre_crop(frame: np.ndarray, crop: int | None) -> np.ndarray:
    height, width = frame.shape[:2]
    h = min(height, crop or height) // SIZE_MULTIPLE * SIZE_MULTIPLE
    w = min(width, crop or width) // SIZE_MULTIPLE * SIZE_MULTIPLE
    if h == 0 or w == 0:
        raise DataError(f"validation frames of {width}x{height} are smaller than {SIZE_MULTIPLE} pixels")
    top, left = (height - h) // 2, (width - w) // 2
    return frame[top : top + h, left : left + w]


def psnr_per_sample(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    mse = (prediction - target).pow(2).flatten(1).mean(1).clamp_min(1e-10)
    return -10.0 * torch.log10(mse)


class ValidationSet:
    def __init__(
        self, sequences: list[Sequence], samples: int, crop: int | None, device: torch.device, batch: int = 8
    ) -> None:
        triplets = [(seq, k) for seq in sequences for k in range(len(seq) - 2)]
        if not triplets:
            raise DataError("the validation split has no sequence of 3 or more frames")
        picks = np.linspace(0, len(triplets) - 1, min(samples, len(triplets))).round().astype(int)
        clips = []
        for index in dict.fromkeys(picks.tolist()):
            seq, k = triplets[index]
            clips.append(np.stack([_centre_crop(seq.read(k + j), crop) for j in range(3)]))
        sizes = {c.shape for c in clips}
        # Sequences of different sizes are validated one by one rather than stacked.
        self.batch = batch if len(sizes) == 1 else 1
        self.clips = [torch.from_numpy(c).permute(0, 3, 1, 2).float().div(255.0) for c in clips]
        self.device = device
        self.copy_last = self._score(lambda context: context[:, -1])

    def _batches(self) -> list[torch.Tensor]:
        return [torch.stack(self.clips[i : i + self.batch]) for i in range(0, len(self.clips), self.batch)]

    def _score(self, predict: Callable[[torch.Tensor], torch.Tensor], keep: int = 0):
        l1, psnr, kept = [], [], []
        for clip in self._batches():
            clip = clip.to(self.device)
            prediction = predict(clip[:, :2]).float().clamp(0.0, 1.0)
            target = clip[:, 2]
            l1.append((prediction - target).abs().flatten(1).mean(1).cpu())
            psnr.append(psnr_per_sample(prediction, target).cpu())
            if len(kept) < keep:
                kept += [(c[1].cpu(), p.cpu(), c[2].cpu()) for c, p in zip(clip, prediction, strict=True)]
        return float(torch.cat(l1).mean()), float(torch.cat(psnr).mean()), kept[:keep]

    def evaluate(self, predict: Callable[[torch.Tensor], torch.Tensor], samples: int = 4):
        """Metrics of ``predict`` beside copy-last's, plus a few (last context, prediction, truth) triples."""
        l1, psnr, kept = self._score(predict, samples)
        copy_l1, copy_psnr, _ = self.copy_last
        metrics = {"val_l1": l1, "val_psnr": psnr, "copy_last_l1": copy_l1, "copy_last_psnr": copy_psnr}
        return metrics, kept


def sample_rows(samples: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]) -> list[np.ndarray]:
    """One uint8 image row per sample: last context | prediction | truth | 4 x |prediction - truth|."""
    rows = []
    for context, prediction, truth in samples:
        error = ((prediction - truth).abs() * 4).clamp(0, 1)
        row = torch.cat([context, prediction, truth, error], dim=2)
        rows.append((row.permute(1, 2, 0).numpy() * 255 + 0.5).astype(np.uint8))
    widths = {r.shape[1] for r in rows}
    return rows if len(widths) == 1 else rows[:1]
