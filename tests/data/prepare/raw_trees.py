"""Miniature raw downloads with the official names and layouts, and checks shared by the prepare tests."""

from __future__ import annotations

import hashlib
import zlib
from pathlib import Path

import cv2
import numpy as np

from framepred.data.tree import FrameTree


def write_frame(path: Path, width: int, height: int) -> None:
    """A random frame whose content depends on its path only (so trees are reproducible)."""
    rng = np.random.default_rng(zlib.crc32(path.as_posix().encode()))
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), rng.integers(0, 256, (height, width, 3), dtype=np.uint8))


def make_cityscapes(raw: Path, snippets: dict[str, dict[str, list[tuple[int, int]]]], size=(48, 24)) -> Path:
    """``{"train": {"aachen": [(seq, first_frame), ...]}}`` -> leftImg8bit_sequence/<split>/<city>/ files."""
    for split, cities in snippets.items():
        for city, starts in cities.items():
            for seq, first in starts:
                for frame in range(first, first + 30):
                    name = f"{city}_{seq:06d}_{frame:06d}_leftImg8bit.png"
                    write_frame(raw / "leftImg8bit_sequence" / split / city / name, *size)
    return raw


def make_kitti_drive(raw: Path, drive: str, frames: int, cameras=("image_02",), size=(40, 12)) -> Path:
    """``RAW/<date>/<drive>/image_0X/data/0000000000.png ...`` as the KITTI *_sync.zip extracts."""
    for camera in cameras:
        for index in range(frames):
            write_frame(raw / drive[:10] / drive / camera / "data" / f"{index:010d}.png", *size)
    return raw / drive[:10] / drive


def tree_digest(root: Path) -> dict[str, tuple[int, str]]:
    """Every file under ``root`` (hidden ones too): modification time and content hash."""
    return {
        p.relative_to(root).as_posix(): (p.stat().st_mtime_ns, hashlib.sha256(p.read_bytes()).hexdigest())
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def official_frame(source: Path, size: tuple[int, int] | None) -> np.ndarray:
    """What the official prep stores for ``source``: cv2.imread (BGR), cv2.resize default, as RGB."""
    bgr = cv2.imread(str(source))
    if size is not None:
        bgr = cv2.resize(bgr, size)
    return bgr[:, :, ::-1]


def assert_sequence_is(tree: FrameTree, split: str, name: str, sources: list[Path], size) -> None:
    """The sequence holds exactly ``sources``, in order, prepared as the official scripts do."""
    (sequence,) = [s for s in tree.sequences(split) if s.name == name]
    assert len(sequence) == len(sources)
    assert [p.name for p in sequence.frames] == [f"{i:06d}.png" for i in range(len(sources))]
    for index, source in enumerate(sources):
        np.testing.assert_array_equal(sequence.read(index), official_frame(source, size))
