"""A frame tree gathers splits from several sources; each split records its own source and options."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from framepred.data.manifest import STATE_NAME
from framepred.data.prepare.frames import prepare_frames
from framepred.data.prepare.kitti import prepare_kitti
from framepred.data.prepare.videos import prepare_videos
from framepred.data.tree import FrameTree, read_manifest
from framepred.errors import UsageError
from framepred.io.images import write_image
from framepred.io.video import write_video
from tests.data.prepare.raw_trees import make_kitti_drive
from tests.helpers import random_frames


@pytest.fixture
def inputs(tmp_path: Path) -> tuple[Path, Path]:
    videos = tmp_path / "videos"
    videos.mkdir()
    write_video(videos / "a.mp4", random_frames(6, 32, 32, seed=1), fps=10)
    write_video(videos / "b.mp4", random_frames(5, 32, 32, seed=2), fps=10)
    folders = tmp_path / "held_out"
    for name, count in (("judo", 4), ("tram", 3)):
        for index, frame in enumerate(random_frames(count, 24, 40, seed=count)):
            (folders / name).mkdir(parents=True, exist_ok=True)
            write_image(folders / name / f"{index:06d}.png", frame)
    return videos, folders


def test_a_split_from_another_source_is_added_to_the_tree(inputs, tmp_path: Path) -> None:
    # docs/training.md: videos for train, frame folders held out as val, one tree. The second command
    # used to be refused ("was prepared with {'source': 'videos', ...}") because the tree had one source.
    videos, folders = inputs
    out = tmp_path / "real"
    prepare_videos([videos], out, size=(16, 16))
    prepare_frames(folders, out, split="val", size=(16, 16))

    tree = FrameTree(out)
    assert tree.splits() == ["train", "val"]
    assert [s.name for s in tree.sequences("val")] == ["judo", "tram"]
    manifest = tree.manifest
    assert manifest["source"] == "mixed" and manifest["frame_size"] == [16, 16]
    assert manifest["sequence_count"] == 4
    train, val = manifest["splits"]["train"], manifest["splits"]["val"]
    assert (train["source"], train["options"]) == ("videos", {"size": [16, 16], "fps": None})
    assert train["inputs"] == [str(videos / "a.mp4"), str(videos / "b.mp4")] and train["sequences"] == 2
    assert (val["source"], val["options"], val["inputs"]) == ("frames", {"size": [16, 16]}, [str(folders)])
    assert (val["sequences"], val["frames"]) == (2, 7)

    # Each split keeps its own rule: the same options add nothing, others are refused for that split only.
    assert prepare_frames(folders, out, split="val", size=(16, 16)).nothing_to_do
    assert prepare_videos([videos], out, size=(16, 16)).nothing_to_do
    with pytest.raises(UsageError, match=r"real/val: was prepared with .*'frames'.*use the same options"):
        prepare_frames(folders, out, split="val", size=(8, 8))
    with pytest.raises(UsageError, match=r"real/train: was prepared with .*'videos'"):
        prepare_frames(folders, out, split="train", size=(16, 16))
    assert read_manifest(out) == manifest
    assert json.loads((out / "val" / STATE_NAME).read_text()) == {"source": "frames", "size": [16, 16]}


def test_the_manifest_does_not_depend_on_the_order_of_the_commands(inputs, tmp_path: Path) -> None:
    videos, folders = inputs
    prepare_videos([videos], tmp_path / "one", size=(16, 16))
    prepare_frames(folders, tmp_path / "one", split="val", size=(16, 16))
    prepare_frames(folders, tmp_path / "two", split="val", size=(16, 16))
    prepare_videos([videos], tmp_path / "two", size=(16, 16))
    first, second = ((tmp_path / name / "manifest.json").read_bytes() for name in ("one", "two"))
    assert first == second


def test_a_public_data_set_beside_own_footage(inputs, tmp_path: Path) -> None:
    videos, _ = inputs
    raw = tmp_path / "kitti"
    make_kitti_drive(raw, "2011_09_26_drive_0060_sync", 10)
    out = tmp_path / "tree"
    prepare_videos([videos], out, size=(16, 8), split="val")
    prepare_kitti(raw, out, size=(16, 8), train_drives=[], test_drives=["2011_09_26_drive_0060"])
    manifest = read_manifest(out)
    assert {k: v["source"] for k, v in manifest["splits"].items()} == {"test": "kitti", "val": "videos"}
    assert manifest["protocol"]["windows"] == {"test": 2}
    assert list(manifest["origins"]) == ["test/2011_09_26_drive_0060_sync_image_02"]
    prepare_videos([videos], out, size=(16, 8), split="extra")  # a later split keeps the others' records
    again = read_manifest(out)
    assert again["protocol"] == manifest["protocol"] and again["origins"] == manifest["origins"]
    assert again["splits"]["test"] == manifest["splits"]["test"]


def test_a_tree_from_before_per_split_records_takes_a_new_split(inputs, tmp_path: Path) -> None:
    videos, folders = inputs
    out = tmp_path / "old"
    prepare_videos([videos], out, size=(16, 16))
    # What framepred wrote before splits recorded their own source: one state file, one source.
    (out / "train" / STATE_NAME).unlink()
    (out / STATE_NAME).write_text(json.dumps({"source": "videos", "size": [16, 16], "fps": None}))
    old = read_manifest(out)
    old_style = {k: v for k, v in old.items() if k != "splits"}
    old_style["splits"] = {"train": {"sequences": 2, "frames": old["splits"]["train"]["frames"]}}
    old_style["inputs"] = old["splits"]["train"]["inputs"]
    (out / "manifest.json").write_text(json.dumps(old_style))

    with pytest.raises(UsageError, match="train: was prepared with"):
        prepare_videos([videos], out, size=(8, 8))
    prepare_frames(folders, out, split="val", size=(16, 16))
    manifest = read_manifest(out)
    assert manifest["splits"]["train"]["source"] == "videos" and "inputs" not in manifest
    assert manifest["splits"]["val"]["source"] == "frames" and manifest["source"] == "mixed"


def test_hand_made_split_and_unknown_fields_are_kept(inputs, tmp_path: Path) -> None:
    videos, _ = inputs
    out = tmp_path / "tree"
    (out / "mine" / "seq").mkdir(parents=True)
    write_image(out / "mine" / "seq" / "000000.png", np.zeros((16, 16, 3), np.uint8))
    (out / "manifest.json").write_text(json.dumps({"note": "keep me"}))
    prepare_videos([videos], out, size=(16, 16))
    manifest = read_manifest(out)
    assert manifest["note"] == "keep me" and manifest["source"] == "videos"
    assert manifest["splits"]["mine"] == {"sequences": 1, "frames": 1}


def test_the_training_clip_rule_follows_the_train_split(inputs, tmp_path: Path) -> None:
    videos, folders = inputs
    raw = tmp_path / "kitti"
    make_kitti_drive(raw, "2011_09_26_drive_0001_sync", 10, cameras=("image_02", "image_03"))
    out = tmp_path / "tree"
    prepare_kitti(raw, out, size=(16, 8), train_drives=["2011_09_26_drive_0001"], test_drives=[])
    rule = read_manifest(out)["training_clips"]
    assert (rule["frames"], rule["stride"]) == (9, 1)
    prepare_frames(folders, out, size=(16, 8), split="val")  # another split keeps the rule
    assert read_manifest(out)["training_clips"] == rule
    # a test-only KITTI tree has no train split, so no rule
    only_test = tmp_path / "test_only"
    prepare_kitti(raw, only_test, size=(16, 8), train_drives=[], test_drives=["2011_09_26_drive_0001"])
    assert "training_clips" not in read_manifest(only_test)
