"""Derived trees: frame trees computed frame for frame from another frame tree (e.g. fusion images).

A derived tree has the splits, sequences and frame counts of its source, and its manifest names the
source under ``derived_from``: a path relative to the derived tree's root (so the two can move
together), or an absolute one. Training data can pair each derived clip with the same frames of the
source (``DataSpec.with_source_frames``), and validation can score on the source frames
(``ValidationSpec.on_source_frames``).
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

from framepred.data.tree import FrameTree, Sequence, read_manifest
from framepred.data.window_dataset import Window
from framepred.errors import DataError
from framepred.io.images import list_images

DERIVED_FROM = "derived_from"


def derived_from_entry(root: str | os.PathLike, source: str | os.PathLike) -> str:
    """What a derived tree at ``root`` records as its source: the path relative to ``root``."""
    return os.path.relpath(Path(source).resolve(), Path(root).resolve())


def source_root(root: str | os.PathLike, manifest: dict[str, Any]) -> Path | None:
    """The folder of the tree that the tree at ``root`` was derived from, or None for a plain tree."""
    entry = manifest.get(DERIVED_FROM)
    if entry is None:
        return None
    path = Path(entry)
    return path if path.is_absolute() else (Path(root) / path).resolve()


def source_tree(root: str | os.PathLike, manifest: dict[str, Any]) -> FrameTree:
    """The source tree of a derived tree (DataError when it names none or the source is gone)."""
    source = source_root(root, manifest)
    if source is None:
        raise DataError(f"{root}: its manifest names no tree it was derived from ({DERIVED_FROM!r})")
    if not source.is_dir():
        raise DataError(
            f"{root}: was derived from {source}, which no longer exists; put that frame tree back or "
            f"make {root} again from where the frames are now"
        )
    return FrameTree(source)


def source_sequence(sequence: Sequence, tree: FrameTree | None = None) -> Sequence:
    """The source frames of a derived sequence: same split, name and number of frames."""
    root = sequence.path.parent.parent
    tree = tree or source_tree(root, read_manifest(root))
    folder = tree.root / sequence.split / sequence.name
    frames = list_images(folder) if folder.is_dir() else []
    if not frames:
        raise DataError(
            f"{sequence.path}: its source {folder} is missing; make {root} again from {tree.root}"
        )
    source = Sequence(sequence.split, sequence.name, folder, frames)
    if len(source) != len(sequence):
        raise DataError(
            f"{sequence.path}: has {len(sequence)} frames but its source {source.path} has {len(source)}; "
            f"make {root} again from {tree.root}"
        )
    return source


def with_source_frames(windows: list[Window]) -> list[Window]:
    """The windows with their source sequences attached (each clip then reads both)."""
    trees: dict[Path, FrameTree] = {}
    sources: dict[Path, Sequence] = {}
    paired = []
    for window in windows:
        sequence = window.sequence
        if sequence.path not in sources:
            root = sequence.path.parent.parent
            if root not in trees:
                trees[root] = source_tree(root, read_manifest(root))
            sources[sequence.path] = source_sequence(sequence, trees[root])
        paired.append(dataclasses.replace(window, source=sources[sequence.path]))
    return paired
