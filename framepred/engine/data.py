"""What a run trains and validates on: the training clips and the validation sequences.

``--data`` is a frame tree, or (for recipes that take them) a `framepred clip` shard folder. From a
tree, training uses the ``train`` split (``--train-split``), or every split but ``val`` and ``test``
when there is none. Validation, the data ``checkpoints/best`` is chosen on, never touches test data:

* the tree's ``val`` split (or ``--val-split NAME``), or the sequences of ``--val-data TREE``;
* else ``--val-fraction`` of the training sequences, held out by sequence (a seeded choice);
* ``--val-split test`` validates on the test split for monitoring only: no ``best`` is chosen.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from torch.utils.data import Dataset

from framepred.data.derived import with_source_frames
from framepred.data.shard_dataset import AugmentedShards, ShardDataset, is_shard_folder
from framepred.data.tree import FrameTree, Sequence
from framepred.data.window_dataset import WindowDataset, find_windows, random_windows
from framepred.engine.config import TrainConfig
from framepred.errors import DataError, UsageError
from framepred.tasks.base import DataSpec, Task

TEST_SPLIT = "test"


@dataclass
class TrainingData:
    dataset: Dataset  # dataset[(epoch, index)] -> uint8 N x 3 x H x W
    description: str  # what the clips are, for the log
    validation: list[Sequence]
    validation_source: str  # where the validation sequences come from, for the log
    selects_best: bool  # whether checkpoints/best is chosen on them
    clip_size: tuple[int, int]  # (height, width) of a training clip


def open_training_data(config: TrainConfig, task: Task) -> TrainingData:
    path = Path(config.data)
    if is_shard_folder(path):
        shards = ShardDataset(path)
        task.use_data(shards.manifest)
        data = _from_shards(path, shards, task.data(), task, config)
    else:
        tree = FrameTree(path)
        task.use_data(tree.manifest)
        data = _from_tree(tree, task.data(), task, config)
    if config.val_data:
        data.validation, data.validation_source, data.selects_best = _external_validation(config)
    task.check_clip_size(*data.clip_size)
    return data


def _from_shards(
    path: Path, shards: ShardDataset, spec: DataSpec, task: Task, config: TrainConfig
) -> TrainingData:
    if not spec.shards:
        raise UsageError(
            f"{path}: is a `framepred clip` shard folder, but the {task.name!r} recipe trains on frame "
            "trees; give --data a frame tree (`framepred prepare`)"
        )
    if shards.frames != spec.clip_frames:
        raise DataError(
            f"{path}: its clips have {shards.frames} frames, the {task.name!r} recipe needs "
            f"{spec.clip_frames}; cut clips with `framepred clip ... --frames {spec.clip_frames}`"
        )
    crop = spec.augment.crop
    if crop is not None and crop > shards.size:
        raise UsageError(f"{path}: its clips are {shards.size}x{shards.size}, smaller than the {crop} crop")
    side = crop or shards.size
    description = f"{len(shards)} clips of {shards.frames} frames from the shards in {path}"
    return TrainingData(
        AugmentedShards(shards, spec.augment, config.seed), description, [], "none", False, (side, side)
    )


def _from_tree(tree: FrameTree, spec: DataSpec, task: Task, config: TrainConfig) -> TrainingData:
    task.check_data(tree.root, tree.manifest)
    splits = tree.splits()
    if not splits:
        raise DataError(
            f"{tree.root}: no <split>/<sequence>/ frame folders; make one with `framepred prepare`"
        )
    val_split = config.val_split
    if val_split is not None and val_split not in splits:
        raise DataError(f"{tree.root}: no split {val_split!r} for --val-split (splits: {', '.join(splits)})")
    train_split = config.train_split or ("train" if "train" in splits else None)
    if train_split is not None:
        if train_split not in splits:
            raise DataError(
                f"{tree.root}: no split {train_split!r} for --train-split (splits: {', '.join(splits)})"
            )
        if train_split == val_split:
            raise UsageError(f"--val-split {val_split} is the training split; validate on held-out data")
        train = tree.sequences(train_split)
    else:
        train = [s for s in tree.sequences() if s.split not in {"val", TEST_SPLIT, val_split}]
        if not train:
            raise DataError(
                f"{tree.root}: no training split (splits: {', '.join(splits)}); name one with --train-split"
            )
    validation, source, best = [], "none", False
    if val_split is None and "val" in splits:
        val_split = "val"
    if val_split is not None:
        config.val_split = val_split  # resolved, into config.yaml
        validation = tree.sequences(val_split)
        best = val_split != TEST_SPLIT
        source = f"the {val_split!r} split" + ("" if best else " (monitoring only: no best checkpoint)")
    elif config.val_fraction > 0 and len(train) >= 2 and not config.val_data:
        count = min(max(1, round(config.val_fraction * len(train))), len(train) - 1)
        order = np.random.default_rng([config.seed, 1]).permutation(len(train))
        held = set(order[:count].tolist())
        validation = [s for i, s in enumerate(train) if i in held]
        train = [s for i, s in enumerate(train) if i not in held]
        source = f"{count} of the training sequences, held out (--val-fraction {config.val_fraction:g})"
        best = True
    if spec.random_start:
        windows = random_windows(train, spec.clip_frames, spec.pad)
        steps = f", frames 1-{spec.max_frame_step} apart" if spec.max_frame_step > 1 else ""
        clips = (
            f"{len(windows)} clips of {spec.clip_frames} frames per epoch "
            f"(one per sequence, random start{steps})"
        )
    else:
        windows = find_windows(train, spec.clip_frames, spec.stride, spec.pad)
        every = spec.stride or spec.clip_frames
        clips = f"{len(windows)} clips of {spec.clip_frames} frames (one every {every} frames)"
    if spec.with_source_frames:
        windows = with_source_frames(windows)
    clip_size = _clip_size(train, spec)
    dataset = WindowDataset(
        windows, spec.clip_frames, spec.augment, config.seed, spec.size, spec.max_frame_step
    )
    description = f"{clips} from {len(train)} sequences of {tree.root}"
    return TrainingData(dataset, description, validation, source, best, clip_size)


def _clip_size(sequences: list[Sequence], spec: DataSpec) -> tuple[int, int]:
    """(height, width) of a training clip, checked against every sequence now rather than mid-run."""
    from PIL import Image  # header-only size reads

    sizes: dict[tuple[int, int], Sequence] = {}
    for sequence in sequences:
        if spec.size is not None:
            size = (spec.size[1], spec.size[0])
        else:
            with Image.open(sequence.frames[0]) as image:
                size = (image.height, image.width)
        sizes.setdefault(size, sequence)
    crop = spec.augment.crop
    if crop is not None:
        for (height, width), sequence in sizes.items():
            if height < crop or width < crop:
                raise DataError(
                    f"{sequence.path}: frames of {width}x{height} are smaller than the {crop}x{crop} "
                    "crop; lower --crop"
                )
        return crop, crop
    if len(sizes) > 1:
        (first, a), (second, b) = list(sizes.items())[:2]
        raise DataError(
            f"{a.path} ({first[1]}x{first[0]}) and {b.path} ({second[1]}x{second[0]}) differ in frame "
            "size; train with a --crop, or prepare the tree with --size WxH"
        )
    return next(iter(sizes))


def _external_validation(config: TrainConfig) -> tuple[list[Sequence], str, bool]:
    tree = FrameTree(config.val_data)
    split = config.val_split
    if split is None and "val" in tree.splits():
        split = "val"
    sequences = tree.sequences(split)
    if not sequences:
        raise DataError(f"{config.val_data}: no sequences to validate on")
    best = split != TEST_SPLIT
    where = f"{config.val_data}" + (f" split {split!r}" if split else "")
    return sequences, where + ("" if best else " (monitoring only: no best checkpoint)"), best
