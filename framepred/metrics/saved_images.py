"""``evaluate --save-images DIR``: every predicted frame of every window, as the official test's
``--save_img`` does, so they can be inspected and re-scored (``evaluate --pred DIR --gt TRUTH``).

Layout: ``DIR/<sequence>/<window>/t+<k>.png``, where ``<window>`` is the window's number within its
sequence (``000000``, ``000001``, ... in start order: KITTI's stride-1 windows are numbered by their
start frame) and ``t+<k>`` the k-th recursive prediction. ``--save-truth TRUTH`` writes the frames
they are scored against in the same layout. With several splits the split is one level above.
Predictions are rounded to 8 bits (the official script truncates); each file is written atomically.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from framepred.data.tree import ensure_output_folder
from framepred.errors import UsageError
from framepred.io.images import write_image
from framepred.metrics.protocols import Window

STEP_PREFIX = "t+"


class WindowImageWriter:
    """Writes a batch of windows' frames (``B x steps x 3 x H x W`` floats in [0, 1]) under ``root``."""

    def __init__(self, root: str | os.PathLike, windows: Sequence[Window]) -> None:
        self.root = Path(root)
        if self.root.exists() and not self.root.is_dir():
            raise UsageError(f"{self.root}: exists and is not a folder; give --save-images a folder")
        ensure_output_folder(self.root)
        several_splits = len({w.sequence.split for w in windows}) > 1
        self.folders: dict[tuple, Path] = {}
        counts: dict[tuple[str, str], int] = {}
        for window in windows:
            key = (window.sequence.split, window.sequence.name)
            number = counts.get(key, 0)
            counts[key] = number + 1
            base = self.root / window.sequence.split if several_splits else self.root
            self.folders[_key(window)] = base / window.sequence.name / f"{number:06d}"

    def write(self, windows: Sequence[Window], frames: torch.Tensor) -> None:
        images = frames.mul(255.0).round().clamp(0, 255).to(torch.uint8).permute(0, 1, 3, 4, 2).cpu().numpy()
        for window, steps in zip(windows, images, strict=True):
            folder = self.folders[_key(window)]
            folder.mkdir(parents=True, exist_ok=True)
            for k, image in enumerate(steps, start=1):
                write_image(folder / f"{STEP_PREFIX}{k}.png", np.ascontiguousarray(image))


def _key(window: Window) -> tuple:
    return window.sequence.split, window.sequence.name, window.context
