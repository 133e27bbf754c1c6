"""Reading the frames an evaluation needs, in batches of equal-sized items, with a small cache.

Stride-1 windows share most of their frames, so recently read frames are kept (a few batches' worth)
instead of decoding each PNG once per window that contains it.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TypeVar

import numpy as np

from framepred.errors import DataError
from framepred.io.images import read_image

T = TypeVar("T")


class FrameCache:
    """``read_image`` with the last ``capacity`` frames kept in memory."""

    def __init__(self, capacity: int) -> None:
        self.capacity = max(1, capacity)
        self._frames: OrderedDict[Path, np.ndarray] = OrderedDict()

    def read(self, path: Path) -> np.ndarray:
        if path in self._frames:
            self._frames.move_to_end(path)
            return self._frames[path]
        frame = read_image(path)
        self._frames[path] = frame
        if len(self._frames) > self.capacity:
            self._frames.popitem(last=False)
        return frame


def stack_same_size(paths: Sequence[Path], cache: FrameCache) -> np.ndarray:
    """The frames at ``paths`` as one ``N x H x W x 3`` array; frames of another size are a DataError."""
    frames = [cache.read(p) for p in paths]
    for path, frame in zip(paths, frames, strict=True):
        if frame.shape != frames[0].shape:
            h0, w0 = frames[0].shape[:2]
            h, w = frame.shape[:2]
            raise DataError(
                f"{path}: is {h}x{w} but {paths[0]} is {h0}x{w0}; frames that are compared must have one size"
            )
    return np.stack(frames)


def batches_of_equal_size(
    items: Sequence[T], batch_size: int, load: Callable[[T], np.ndarray]
) -> Iterator[tuple[list[T], np.ndarray]]:
    """Group consecutive items into batches of at most ``batch_size`` whose loaded arrays share a shape.

    Yields ``(items, stacked arrays)`` with the arrays stacked on a new first axis.
    """
    group: list[T] = []
    arrays: list[np.ndarray] = []
    for item in items:
        array = load(item)
        if group and (len(group) == batch_size or array.shape != arrays[0].shape):
            yield group, np.stack(arrays)
            group, arrays = [], []
        group.append(item)
        arrays.append(array)
    if group:
        yield group, np.stack(arrays)
