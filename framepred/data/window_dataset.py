"""Training clips from a frame tree: windows of consecutive frames, augmented together per clip.

Words: a *clip* is the run of consecutive frames that makes one training item; a *window* is where a
clip sits in a frame tree (a sequence and a start frame); a *shard* is a file of clips that
``framepred clip`` wrote (see ``shard_dataset``).

Windows are fixed (a start frame) or random: a random window is one clip per sequence per epoch
whose start and frame step are drawn anew every epoch.

Items are addressed as ``(epoch, index)`` pairs: one generator seeded from ``(seed, epoch, index)``
draws a random window's placement, then the augmentation, so a clip is the same whichever worker
decodes it and whether or not the run was resumed. Each clip's frames are decoded once, then
resized, cropped and augmented together.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import Dataset

from framepred.data.augment import AugmentOptions, augment_clip
from framepred.data.resize import resize_frame
from framepred.data.tree import Sequence
from framepred.errors import DataError


@dataclass(frozen=True)
class Window:
    sequence: Sequence
    start: int | None  # None: drawn for every epoch (see random_windows)
    # The frames this sequence was derived from (a derived tree, see data/derived.py): a clip then
    # holds its own frames followed by the same frames of the source, augmented together.
    source: Sequence | None = None


def find_windows(
    sequences: list[Sequence], clip_frames: int, stride: int | None = None, pad: bool = False
) -> list[Window]:
    """Windows of ``clip_frames`` consecutive frames, one every ``stride`` frames (default: no overlap).

    With ``pad``, a sequence shorter than a clip gives one window (its last frame is repeated)."""
    stride = stride or clip_frames
    windows = []
    for seq in sequences:
        starts = range(0, len(seq) - clip_frames + 1, stride)
        windows += [Window(seq, start) for start in starts] or ([Window(seq, 0)] if pad else [])
    if not windows:
        longest = max((len(s) for s in sequences), default=0)
        raise DataError(
            f"no sequence has {clip_frames} frames (longest: {longest}); use shorter clips (--clip-frames)"
        )
    return windows


def random_windows(sequences: list[Sequence], clip_frames: int, pad: bool = False) -> list[Window]:
    """One window per sequence whose start (and frame step) each epoch draws anew.

    A sequence shorter than a clip gives none, or with ``pad`` one fixed window at frame 0."""
    windows = [Window(seq, None) for seq in sequences if len(seq) >= clip_frames]
    windows += [Window(seq, 0) for seq in sequences if len(seq) < clip_frames and pad]
    if not windows:
        longest = max((len(s) for s in sequences), default=0)
        raise DataError(
            f"no sequence has {clip_frames} frames (longest: {longest}); use shorter clips (--clip-frames)"
        )
    return windows


def place_random_window(
    length: int, clip_frames: int, max_frame_step: int, rng: np.random.Generator
) -> tuple[int, int]:
    """(start, step) of a random clip in a sequence of ``length`` frames, as DMVFN's UCF101 loader
    draws them: the step uniform in 1..min(max_frame_step, length // clip_frames), then the start
    uniform over every position where the clip fits."""
    step = int(rng.integers(1, max(1, min(max_frame_step, length // clip_frames)) + 1))
    start = int(rng.integers(0, length - (clip_frames - 1) * step))
    return start, step


class WindowDataset(Dataset):
    """``dataset[(epoch, index)]`` -> ``N x 3 x S x S`` uint8 tensor (RGB unless channel-swapped), or
    ``2N x ...`` for windows with a source (the window's frames, then the source's).

    ``size`` (width, height) resizes every frame before augmentation. A random window's frames are
    1..``max_frame_step`` apart (see ``place_random_window``); a fixed window's are consecutive."""

    def __init__(
        self,
        windows: list[Window],
        clip_frames: int,
        augment: AugmentOptions,
        seed: int,
        size: tuple[int, int] | None = None,
        max_frame_step: int = 1,
    ) -> None:
        self.windows = windows
        self.clip_frames = clip_frames
        self.augment = augment
        self.seed = seed
        self.size = size
        self.max_frame_step = max_frame_step

    def __len__(self) -> int:
        return len(self.windows)

    def placement(self, index: int, rng: np.random.Generator) -> tuple[int, int]:
        """(start, step) of item ``index``; a random window draws them from ``rng``."""
        window = self.windows[index]
        if window.start is not None:
            return window.start, 1
        return place_random_window(len(window.sequence), self.clip_frames, self.max_frame_step, rng)

    def read(self, index: int, start: int, step: int = 1) -> np.ndarray:
        """Frames ``start, start + step, ...`` of the window's sequence (resized when asked),
        ``N x H x W x 3`` uint8 (``2N`` with a source); past the end the last frame repeats."""
        window = self.windows[index]
        last = len(window.sequence) - 1
        indices = [min(start + k * step, last) for k in range(self.clip_frames)]
        frames = [window.sequence.read(i) for i in indices]
        if window.source is not None:
            frames += [window.source.read(i) for i in indices]
            (height, width), (source_height, source_width) = frames[0].shape[:2], frames[-1].shape[:2]
            if (height, width) != (source_height, source_width):
                raise DataError(
                    f"{window.sequence.path}: its frames are {width}x{height} but those of its source "
                    f"{window.source.path} are {source_width}x{source_height}"
                )
        return np.stack([resize_frame(frame, self.size) for frame in frames])

    def __getitem__(self, key: tuple[int, int]) -> torch.Tensor:
        epoch, index = key
        rng = np.random.default_rng([self.seed, epoch, index])
        frames = augment_clip(self.read(index, *self.placement(index, rng)), self.augment, rng)
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
