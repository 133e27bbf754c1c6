"""Training windows from a frame tree: runs of consecutive frames, augmented together per window.

Items are addressed as ``(epoch, index)`` pairs: the augmentation generator is seeded from
``(seed, epoch, index)``, so a clip is the same whichever worker decodes it and whether or not the run
was resumed. Each clip's frames are decoded once, then cropped and augmented together.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import Dataset

from framepred.data.augment import AugmentOptions, augment_clip
from framepred.data.tree import Sequence
from framepred.errors import DataError


@dataclass(frozen=True)
class ClipWindow:
    sequence: Sequence
    start: int


def clip_windows(sequences: list[Sequence], clip_frames: int, stride: int | None = None) -> list[ClipWindow]:
    """Windows of ``clip_frames`` consecutive frames, one every ``stride`` frames (default: no overlap)."""
    stride = stride or clip_frames
    windows = [
        ClipWindow(seq, start) for seq in sequences for start in range(0, len(seq) - clip_frames + 1, stride)
    ]
    if not windows:
        longest = max((len(s) for s in sequences), default=0)
        raise DataError(
            f"no sequence has {clip_frames} frames (longest: {longest}); use shorter clips (--clip-frames)"
        )
    return windows


class WindowDataset(Dataset):
    """``dataset[(epoch, index)]`` -> ``N x 3 x S x S`` uint8 tensor (RGB unless channel-swapped)."""

    def __init__(
        self, windows: list[ClipWindow], clip_frames: int, augment: AugmentOptions, seed: int
    ) -> None:
        self.windows = windows
        self.clip_frames = clip_frames
        self.augment = augment
        self.seed = seed

    def __len__(self) -> int:
        return len(self.windows)

    def __getitem__(self, key: tuple[int, int]) -> torch.Tensor:
        epoch, index = key
        window = self.windows[index]
        frames = np.stack([window.sequence.read(window.start + k) for k in range(self.clip_frames)])
        rng = np.random.default_rng([self.seed, epoch, index])
        frames = augment_clip(frames, self.augment, rng)
        return torch.from_numpy(frames).permute(0, 3, 1, 2).contiguous()


def epoch_batches(
    num_items: int, batch_size: int, epoch: int, seed: int, rank: int = 0, world_size: int = 1
) -> list[list[int]]:
    """This rank's batches of item indices for one epoch: a seeded shuffle, split across ranks.

    Every rank computes the same permutation; the tail that would not fill a batch on every rank
    is dropped (as ``drop_last`` with a distributed sampler does).
    """
    per_step = batch_size * world_size
    usable = num_items // per_step * per_step
    if usable == 0:
        raise DataError(
            f"{num_items} training clips are fewer than one global batch "
            f"({batch_size} x {world_size} processes); "
            "lower --batch-size or add data"
        )
    generator = torch.Generator().manual_seed(seed * 100_003 + epoch)
    order = torch.randperm(num_items, generator=generator)[:usable].tolist()
    mine = order[rank::world_size]
    return [mine[i : i + batch_size] for i in range(0, len(mine), batch_size)]
