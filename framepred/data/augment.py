"""Training augmentation for clips: one random draw applied identically to every frame of a clip.

The DMVFN recipe (spec dmvfn.md §7.3): a random square crop; rotate 90 degrees clockwise with
probability 1/2, else 180 degrees with probability 1/2, else 90 degrees counter-clockwise with
probability 1/2; reverse the channel order with probability 1/2; flip vertically and horizontally,
each with probability 1/2. The draws come from a generator the caller seeds, so a clip's
augmentation depends only on (seed, epoch, index), never on which worker loads it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from framepred.errors import DataError


@dataclass(frozen=True)
class AugmentOptions:
    crop: int | None = 256  # square crop side; None keeps whole frames
    rotate: bool = True
    channel_swap: bool = True
    flip: bool = True


def augment_clip(frames: np.ndarray, options: AugmentOptions, rng: np.random.Generator) -> np.ndarray:
    """``N x H x W x 3`` uint8 -> augmented ``N x S x S x 3`` uint8 (a contiguous copy)."""
    if options.crop is not None:
        height, width = frames.shape[1:3]
        size = options.crop
        if height < size or width < size:
            raise DataError(
                f"frames of {width}x{height} are smaller than the {size}x{size} crop; lower --crop"
            )
        top = int(rng.integers(0, height - size + 1))
        left = int(rng.integers(0, width - size + 1))
        frames = frames[:, top : top + size, left : left + size]
    if options.rotate:
        if rng.random() < 0.5:
            frames = np.rot90(frames, k=-1, axes=(1, 2))  # clockwise
        elif rng.random() < 0.5:
            frames = np.rot90(frames, k=2, axes=(1, 2))
        elif rng.random() < 0.5:
            frames = np.rot90(frames, k=1, axes=(1, 2))  # counter-clockwise
    if options.channel_swap and rng.random() < 0.5:
        frames = frames[..., ::-1]
    if options.flip:
        if rng.random() < 0.5:
            frames = frames[:, ::-1]
        if rng.random() < 0.5:
            frames = frames[:, :, ::-1]
    return np.ascontiguousarray(frames)
