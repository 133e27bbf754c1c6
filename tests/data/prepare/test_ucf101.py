from __future__ import annotations

from pathlib import Path

import pytest

from framepred.data.prepare.ucf101 import plan_ucf101, prepare_ucf101
from framepred.data.tree import FrameTree
from framepred.errors import DataError
from tests.data.prepare.raw_trees import assert_sequence_is, tree_digest, write_frame

VIDEOS = {  # name -> frames; the folders spell HandstandPushups as jpegs_256 does
    "v_ApplyEyeMakeup_g01_c01": 3,
    "v_ApplyEyeMakeup_g08_c02": 4,
    "v_HandstandPushups_g07_c01": 3,
    "v_HandstandPushups_g25_c04": 3,
    "v_YoYo_g10_c01": 12,
}


@pytest.fixture
def raw(tmp_path: Path) -> Path:
    for name, frames in VIDEOS.items():
        for index in range(1, frames + 1):
            write_frame(tmp_path / "raw" / "jpegs_256" / name / f"frame{index:06d}.jpg", 34, 26)
    return tmp_path / "raw"


def splits_of(plan) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for job in plan.jobs:
        found.setdefault(job.split, []).append(job.name)
    return found


def test_group_rule_without_lists(raw: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    before = tree_digest(raw)
    result = prepare_ucf101(raw, out)
    tree = FrameTree(out)
    assert [s.name for s in tree.sequences("test")] == [
        "v_ApplyEyeMakeup_g01_c01",
        "v_HandstandPushups_g07_c01",
    ]
    assert [s.name for s in tree.sequences("train")] == [
        "v_ApplyEyeMakeup_g08_c02",
        "v_HandstandPushups_g25_c04",
        "v_YoYo_g10_c01",
    ]
    folder = raw / "jpegs_256" / "v_YoYo_g10_c01"
    assert_sequence_is(tree, "train", "v_YoYo_g10_c01", sorted(folder.iterdir()), None)  # size kept, 2 < 10
    assert tree.manifest["frame_size"] == [34, 26] and "protocol" not in tree.manifest
    assert "groups 1-7 test" in result.notes[0]
    assert tree_digest(raw) == before
    assert prepare_ucf101(raw, out).nothing_to_do


def test_official_lists_are_used_and_matched_without_case(raw: Path) -> None:
    lists = raw / "ucfTrainTestlist"
    lists.mkdir()
    (lists / "testlist01.txt").write_text("HandstandPushups/v_HandStandPushups_g25_c04.avi\n")
    (lists / "trainlist01.txt").write_text(
        "ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi 1\r\nYoYo/v_YoYo_g10_c01.avi 101\r\n\r\n"
    )
    plan = plan_ucf101(raw)
    assert splits_of(plan) == {
        "train": ["v_ApplyEyeMakeup_g01_c01", "v_YoYo_g10_c01"],
        "test": ["v_HandstandPushups_g25_c04"],
    }
    assert any("in neither split list" in note for note in plan.notes)


def test_split_file_lists_the_test_videos(raw: Path, tmp_path: Path) -> None:
    split_file = tmp_path / "testlist03.txt"
    split_file.write_text("YoYo/v_YoYo_g10_c01.avi\n")
    plan = plan_ucf101(raw / "jpegs_256", size=(20, 16), split_file=split_file)
    assert splits_of(plan)["test"] == ["v_YoYo_g10_c01"] and len(splits_of(plan)["train"]) == 4
    assert plan.size == (20, 16)


def test_listed_video_missing_and_gaps(raw: Path, tmp_path: Path) -> None:
    split_file = tmp_path / "list.txt"
    split_file.write_text("v_YoYo_g10_c01\nv_Zumba_g01_c01\n")
    with pytest.raises(DataError, match=r"jpegs_256/v_Zumba_g01_c01: not found, but .*list.txt lists it"):
        plan_ucf101(raw, split_file=split_file)
    (raw / "jpegs_256" / "v_YoYo_g10_c01" / "frame000005.jpg").unlink()
    with pytest.raises(DataError, match=r"v_YoYo_g10_c01/frame000005.jpg: missing frame"):
        plan_ucf101(raw)


def test_unknown_layout(tmp_path: Path) -> None:
    (tmp_path / "UCF-101" / "ApplyEyeMakeup").mkdir(parents=True)
    with pytest.raises(DataError, match=r"expected jpegs_256/v_<Class>_g<NN>_c<NN>/frame000001.jpg"):
        plan_ucf101(tmp_path)
