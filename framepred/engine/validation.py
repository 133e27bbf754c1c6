"""Validation during training: the model's error beside copy-last's on held-out windows.

A window is ``context + horizon`` consecutive frames (the recipe's ``ValidationSpec``); the windows
are spread evenly over the validation sequences, resized/centre-cropped as the spec says (sides
rounded down to the model's size multiple), decoded once and kept in memory. The model predicts the
horizon frames from the context; the scores are the mean over all predicted frames. Copy-last's
numbers are computed once: they are the bar the model must clear.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from framepred.data.resize import resize_frame
from framepred.data.tree import Sequence
from framepred.errors import DataError
from framepred.tasks.base import ValidationSpec

# (context B x T x 3 x H x W, horizon) -> B x horizon x 3 x H x W, all floats in [0, 1]
PredictFunction = Callable[[torch.Tensor, int], torch.Tensor]
Sample = tuple[torch.Tensor, torch.Tensor, torch.Tensor]  # last context, prediction, truth (T x 3 x H x W)


def _shape(frame: np.ndarray, spec: ValidationSpec, multiple: int) -> np.ndarray:
    frame = resize_frame(frame, spec.size)
    height, width = frame.shape[:2]
    h = min(height, spec.crop or height) // multiple * multiple
    w = min(width, spec.crop or width) // multiple * multiple
    if h == 0 or w == 0:
        raise DataError(
            f"validation frames of {width}x{height} are smaller than the model's {multiple} pixels"
        )
    top, left = (height - h) // 2, (width - w) // 2
    return frame[top : top + h, left : left + w]


def psnr_per_sample(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    mse = (prediction - target).pow(2).flatten(1).mean(1).clamp_min(1e-10)
    return -10.0 * torch.log10(mse)


class ValidationSet:
    def __init__(
        self,
        sequences: list[Sequence],
        samples: int,
        spec: ValidationSpec,
        multiple: int,
        device: torch.device,
        batch: int = 8,
    ) -> None:
        length = spec.context + spec.horizon
        windows = [(seq, k) for seq in sequences for k in range(len(seq) - length + 1)]
        if not windows:
            raise DataError(
                f"no validation sequence has {length} frames ({spec.context} context + {spec.horizon} "
                "predicted); add longer sequences or choose another validation split"
            )
        self.spec = spec
        picks = np.linspace(0, len(windows) - 1, min(samples, len(windows))).round().astype(int)
        clips = []
        for index in dict.fromkeys(picks.tolist()):
            seq, k = windows[index]
            clips.append(np.stack([_shape(seq.read(k + j), spec, multiple) for j in range(length)]))
        sizes = {c.shape for c in clips}
        # Sequences of different sizes are validated one by one rather than stacked.
        self.batch = batch if len(sizes) == 1 else 1
        self.clips = [torch.from_numpy(c).permute(0, 3, 1, 2).float().div(255.0) for c in clips]
        self.device = device
        self.copy_last = self._score(lambda context, horizon: context[:, -1:].expand(-1, horizon, -1, -1, -1))

    def __len__(self) -> int:
        return len(self.clips)

    def _batches(self) -> list[torch.Tensor]:
        return [torch.stack(self.clips[i : i + self.batch]) for i in range(0, len(self.clips), self.batch)]

    def _score(self, predict: PredictFunction, keep: int = 0) -> tuple[float, float, list[Sample]]:
        context, horizon = self.spec.context, self.spec.horizon
        l1, psnr, kept = [], [], []
        for clip in self._batches():
            clip = clip.to(self.device)
            prediction = predict(clip[:, :context], horizon).float().clamp(0.0, 1.0)
            target = clip[:, context:]
            flat_pred, flat_target = prediction.flatten(0, 1), target.flatten(0, 1)
            l1.append((flat_pred - flat_target).abs().flatten(1).mean(1).cpu())
            psnr.append(psnr_per_sample(flat_pred, flat_target).cpu())
            if len(kept) < keep:
                kept += [
                    (c[context - 1].cpu(), p.cpu(), t.cpu()) for c, p, t in zip(clip, prediction, target)
                ]
        return float(torch.cat(l1).mean()), float(torch.cat(psnr).mean()), kept[:keep]

    def evaluate(self, predict: PredictFunction, samples: int = 4) -> tuple[dict[str, float], list[Sample]]:
        """Metrics of ``predict`` beside copy-last's, plus a few (last context, prediction, truth)."""
        l1, psnr, kept = self._score(predict, samples)
        copy_l1, copy_psnr, _ = self.copy_last
        metrics = {"val_l1": l1, "val_psnr": psnr, "copy_last_l1": copy_l1, "copy_last_psnr": copy_psnr}
        return metrics, kept


def sample_rows(samples: list[Sample]) -> list[np.ndarray]:
    """One uint8 image row per sample: last context | prediction | truth | 4 x |error| at t+1, then
    prediction | truth at the last predicted step when there is more than one."""
    rows = []
    for context, prediction, truth in samples:
        error = ((prediction[0] - truth[0]).abs() * 4).clamp(0, 1)
        panels = [context, prediction[0], truth[0], error]
        if len(prediction) > 1:
            panels += [prediction[-1], truth[-1]]
        row = torch.cat(panels, dim=2)
        rows.append((row.permute(1, 2, 0).numpy() * 255 + 0.5).astype(np.uint8))
    widths = {r.shape[1] for r in rows}
    return rows if len(widths) == 1 else rows[:1]
