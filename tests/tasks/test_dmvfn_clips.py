"""`framepred train dmvfn` trains on each prepared data set's official samples (specs/dmvfn.md §7.4)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from framepred.data.prepare.cityscapes import prepare_cityscapes
from framepred.data.prepare.kitti import prepare_kitti
from framepred.data.prepare.ucf101 import prepare_ucf101
from framepred.data.prepare.vimeo import prepare_vimeo
from framepred.engine.config import TrainConfig
from framepred.engine.data import open_training_data
from framepred.errors import DataError, UsageError
from framepred.tasks import create_task
from tests.data.prepare.raw_trees import make_cityscapes, make_kitti_drive, write_frame

SIZE = (64, 64)  # the smallest frames DMVFN's loss takes, so the recipe's checks pass with --crop 64
TRAIN_DRIVES = {"2011_09_26_drive_0001_sync": 12, "2011_09_26_drive_0002_sync": 10}
TEST_DRIVE = "2011_09_26_drive_0060_sync"


def _open(tree: Path, **options):
    task = create_task("dmvfn", crop=64, perceptual=False, **options)
    config = TrainConfig(task="dmvfn", data=str(tree), run_dir="unused", steps=1, val_fraction=0)
    return task, open_training_data(config, task)


def _clips(data) -> list[tuple[str, int | None]]:
    return [(w.sequence.name, w.start) for w in data.dataset.windows]


@pytest.fixture(scope="module")
def kitti(tmp_path_factory) -> Path:
    raw = tmp_path_factory.mktemp("kitti") / "raw"
    for drive, frames in TRAIN_DRIVES.items():
        make_kitti_drive(raw, drive, frames, cameras=("image_02", "image_03"))
    make_kitti_drive(raw, TEST_DRIVE, 9)
    out = raw.parent / "tree"
    prepare_kitti(raw, out, size=SIZE, train_drives=list(TRAIN_DRIVES), test_drives=[TEST_DRIVE])
    return out


def test_kitti_trains_on_every_stride_1_nine_frame_window(kitti: Path) -> None:
    rule = json.loads((kitti / "manifest.json").read_text())["training_clips"]
    assert (rule["frames"], rule["stride"], rule["random_start"]) == (9, 1, False)
    task, data = _open(kitti)
    # frames - 8 windows per drive stream: 12 -> 4 (x2 cameras), 10 -> 2 (x2 cameras)
    streams = {f"{d}_{c}": n - 8 for d, n in TRAIN_DRIVES.items() for c in ("image_02", "image_03")}
    assert len(data.dataset) == sum(streams.values()) == 12
    assert _clips(data) == [(name, start) for name, count in streams.items() for start in range(count)]
    assert task.rounds_per_batch() == 7  # triplets per 9-frame clip
    assert data.dataset[(0, 0)].shape == (9, 3, 64, 64)
    assert "12 clips of 9 frames (one every 1 frames)" in data.description


def test_clip_options_replace_the_trees_rule(kitti: Path) -> None:
    task, data = _open(kitti, clip_frames=5)
    assert task.rounds_per_batch() == 3
    # 5-frame windows without overlap: 12 -> 2, 10 -> 2 per stream
    assert len(data.dataset) == 8
    task, data = _open(kitti, clip_stride=1)  # the default length, 10 frames, every frame
    assert len(data.dataset) == 3 * 2 + 1 * 2 and task.rounds_per_batch() == 8
    with pytest.raises(UsageError, match="--clip-frames must be at least 3"):
        create_task("dmvfn", clip_frames=2)


def test_cityscapes_trains_on_whole_30_frame_snippets(tmp_path: Path) -> None:
    raw = make_cityscapes(
        tmp_path / "raw", {"train": {"aachen": [(0, 19), (0, 49)], "bochum": [(3, 0)]}}, size=(48, 24)
    )
    prepare_cityscapes(raw, tmp_path / "tree", size=SIZE)
    task, data = _open(tmp_path / "tree")
    assert _clips(data) == [("000000", 0), ("000001", 0), ("000002", 0)]  # one clip per snippet
    assert task.rounds_per_batch() == 28  # every consecutive triplet of the 30 frames
    assert data.dataset[(0, 2)].shape[0] == 30


def test_ucf101_trains_on_one_random_clip_per_video_per_epoch(tmp_path: Path) -> None:
    lengths = {"v_YoYo_g10_c01": 60, "v_YoYo_g11_c01": 25, "v_YoYo_g12_c01": 8, "v_YoYo_g01_c01": 30}
    for name, frames in lengths.items():
        for index in range(1, frames + 1):
            write_frame(tmp_path / "raw" / "jpegs_256" / name / f"frame{index:06d}.jpg", *SIZE)
    prepare_ucf101(tmp_path / "raw", tmp_path / "tree")
    rule = json.loads((tmp_path / "tree" / "manifest.json").read_text())["training_clips"]
    assert (rule["frames"], rule["random_start"], rule["max_frame_step"]) == (10, True, 5)
    task, data = _open(tmp_path / "tree")
    # train videos (groups 8-25) of at least 10 frames, one clip each per epoch; g01 is a test video
    assert _clips(data) == [("v_YoYo_g10_c01", None), ("v_YoYo_g11_c01", None)]
    assert task.rounds_per_batch() == 8
    assert data.dataset.max_frame_step == 5
    placements = [data.dataset.placement(0, np.random.default_rng([1, e, 0])) for e in range(60)]
    assert {step for _, step in placements} == {1, 2, 3, 4, 5}  # 60 frames allow steps 1-5
    assert "per epoch (one per sequence, random start, frames 1-5 apart)" in data.description


def test_vimeo_trains_on_each_triplet(tmp_path: Path) -> None:
    base = tmp_path / "raw" / "vimeo_triplet"
    for triplet in ("00001/0001", "00001/0002", "00002/0001"):
        for name in ("im1.png", "im2.png", "im3.png"):
            write_frame(base / "sequences" / triplet / name, *SIZE)
    (base / "tri_trainlist.txt").write_text("00001/0001\n00002/0001\n")
    (base / "tri_testlist.txt").write_text("00001/0002\n")
    prepare_vimeo(tmp_path / "raw", tmp_path / "tree")
    task, data = _open(tmp_path / "tree")
    assert _clips(data) == [("00001_0001", 0), ("00002_0001", 0)]
    assert task.rounds_per_batch() == 1


def test_a_tree_without_a_rule_gets_framepreds_default(tmp_path: Path) -> None:
    from tests.engine.engine_helpers import moving_squares_tree

    tree = moving_squares_tree(tmp_path / "tree", sequences=2, frames=25, val=False)
    task, data = _open(tree)
    assert task.rounds_per_batch() == 8 and len(data.dataset) == 4  # 10-frame windows, no overlap
    (tree / "manifest.json").write_text(json.dumps({"training_clips": {"frames": 2, "stride": 1}}))
    with pytest.raises(DataError, match="shorter than a triplet"):
        _open(tree)
