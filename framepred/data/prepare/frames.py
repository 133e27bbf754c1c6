"""`framepred prepare frames`: folders of frame images become sequences of the canonical tree."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from framepred.data.manifest import SplitSource
from framepred.data.prepare.jobs import SequenceJob
from framepred.data.prepare.videos import sequence_names
from framepred.data.prepare.write import PrepareResult, WritePlan, write_plan
from framepred.data.resize import resize_frame
from framepred.data.sharding import Shard
from framepred.data.tree import FrameTree, discover_sequences
from framepred.errors import DataError
from framepred.io.images import list_images, read_image


def folder_frames(source: dict[str, Any]) -> Iterator[tuple[np.ndarray, str]]:
    for path in list_images(source["path"]):
        yield resize_frame(read_image(path), source["size"]), str(path)


def prepare_frames(
    source: Path,
    out: Path,
    size: tuple[int, int] | None = None,
    split: str = "train",
    workers: int = 1,
    shard: Shard | None = None,
) -> PrepareResult:
    """Copy frame folders (any names, natural order) into a canonical tree under ``out``.

    ``source`` may be a folder of frame folders (they go to ``split``), a single frame folder, or an
    existing frame tree (its splits are kept).
    """
    if not source.exists():
        raise DataError(f"{source}: no such folder; check the path")
    if source.resolve() == out.resolve():
        raise DataError(f"{out}: output folder is the input folder; choose another -o")
    sequences = discover_sequences(source)
    is_tree = not list_images(source) and bool(FrameTree(source).splits())
    splits = [s.split if is_tree else split for s in sequences]
    jobs, weights = [], []
    for split_name in dict.fromkeys(splits):  # names need only be unique within their split
        group = [seq for seq, seq_split in zip(sequences, splits) if seq_split == split_name]
        for seq, name in zip(group, sequence_names([seq.name for seq in group])):
            jobs.append(SequenceJob(split_name, name, {"path": str(seq.path), "size": size}))
            weights.append(len(seq))
    plan = WritePlan(
        source="frames",
        jobs=jobs,
        produce=folder_frames,
        split_source=SplitSource("frames", {"size": size}, {"inputs": [str(source)]}),
        weights=weights,
        description="folders",
    )
    return write_plan(plan, out, workers, shard)
