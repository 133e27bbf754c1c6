from __future__ import annotations

from pathlib import Path

import pytest

from framepred.data.prepare.kitti import TEST_DRIVES, TRAIN_DRIVES, plan_kitti, prepare_kitti, split_names
from framepred.data.tree import FrameTree
from framepred.errors import DataError, UsageError
from tests.data.prepare.raw_trees import assert_sequence_is, make_kitti_drive, tree_digest

SIZE = (16, 8)
TEST_FRAMES = {"2011_09_26_drive_0060_sync": 12, "2011_09_26_drive_0084_sync": 9,
               "2011_09_26_drive_0093_sync": 10, "2011_09_26_drive_0096_sync": 8}  # fmt: skip


@pytest.fixture
def raw(tmp_path: Path) -> Path:
    """The four DMVFN test drives (short) and no training drive."""
    for drive, frames in TEST_FRAMES.items():
        make_kitti_drive(tmp_path / "raw", drive, frames)
    return tmp_path / "raw"


def test_builtin_drive_lists_are_dmvfns() -> None:
    assert len(TRAIN_DRIVES) == len(set(TRAIN_DRIVES)) == 24
    assert [d[-9:-5] for d in TEST_DRIVES] == ["0060", "0084", "0093", "0096"]
    assert all(d.startswith("2011_09_26_drive_") for d in TEST_DRIVES)
    assert not set(TRAIN_DRIVES) & set(TEST_DRIVES)
    assert {d[:10] for d in TRAIN_DRIVES} == {"2011_09_26", "2011_09_28", "2011_09_29"}
    assert "2011_09_29_drive_0071_sync" in TRAIN_DRIVES and "2011_09_26_drive_0048_sync" in TRAIN_DRIVES


def test_test_drives_windows_sizes_and_pixels(raw: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    before = tree_digest(raw)
    assert plan_kitti(raw).size == (832, 256)
    result = prepare_kitti(raw, out, size=SIZE)
    tree = FrameTree(out)
    assert tree.splits() == ["test"]  # no training drive present: the split is left out, with a note
    assert any("none of the 24 train drives" in note for note in result.notes)
    names = [s.name for s in tree.sequences("test")]
    assert names == [f"{d}_image_02" for d in sorted(TEST_FRAMES)]
    drive = raw / "2011_09_26" / "2011_09_26_drive_0060_sync" / "image_02" / "data"
    assert_sequence_is(tree, "test", names[0], sorted(drive.iterdir()), SIZE)
    # Each frame is stored once; the manifest defines every 9-frame window, stride 1 (n - 8 per drive).
    assert tree.manifest["splits"]["test"] == {
        "sequences": 4,
        "frames": 39,
        "source": "kitti",
        "options": {"size": [16, 8]},
    }
    assert tree.manifest["protocol"] == {
        "name": "dmvfn",
        "window": 9,
        "stride": 1,
        "splits": ["test"],
        "windows": {"test": 4 + 1 + 2 + 0},
    }
    assert tree.manifest["frame_size"] == [16, 8]
    assert tree_digest(raw) == before
    assert prepare_kitti(raw, out, size=SIZE).nothing_to_do


def test_training_drives_use_both_colour_cameras(raw: Path) -> None:
    make_kitti_drive(raw, "2011_09_28_drive_0002_sync", 10, cameras=("image_02", "image_03"))
    plan = plan_kitti(
        raw, size=SIZE, train_drives=["2011_09_28_drive_0002"], test_drives=["2011_09_26_drive_0060"]
    )
    assert [(j.split, j.name, len(j.frames)) for j in plan.jobs] == [
        ("train", "2011_09_28_drive_0002_sync_image_02", 10),
        ("train", "2011_09_28_drive_0002_sync_image_03", 10),
        ("test", "2011_09_26_drive_0060_sync_image_02", 12),
    ]
    assert plan.protocol is not None and plan.protocol["windows"] == {"test": 4}


def test_missing_image_03_of_a_training_drive(raw: Path) -> None:
    make_kitti_drive(raw, "2011_09_28_drive_0002_sync", 10)
    with pytest.raises(DataError, match=r"2011_09_28_drive_0002_sync/image_03/data: not found"):
        plan_kitti(raw, train_drives=["2011_09_28_drive_0002_sync"])


def test_incomplete_drive_list_names_the_expected_folder(raw: Path) -> None:
    make_kitti_drive(raw, "2011_09_26_drive_0001_sync", 9, cameras=("image_02", "image_03"))
    expected = raw / "2011_09_26" / "2011_09_26_drive_0002_sync" / "image_02" / "data"
    with pytest.raises(
        DataError, match=rf"{expected}: not found, but the train drive list \(1 of 24 found\)"
    ):
        plan_kitti(raw)


def test_gap_in_frame_numbers_is_named(raw: Path) -> None:
    data = raw / "2011_09_26" / "2011_09_26_drive_0093_sync" / "image_02" / "data"
    (data / "0000000004.png").unlink()
    with pytest.raises(DataError, match=str(data / "0000000004.png")):
        plan_kitti(raw)


def test_drive_options_and_flat_layout(tmp_path: Path) -> None:
    assert split_names(["2011_09_26_drive_0001,2011_09_26_drive_0002_sync", " 2011_09_29_drive_0071 "]) == [
        "2011_09_26_drive_0001_sync",
        "2011_09_26_drive_0002_sync",
        "2011_09_29_drive_0071_sync",
    ]
    with pytest.raises(UsageError, match="expected a KITTI raw drive name"):
        split_names(["drive_1"])
    # Drives directly under RAW (without the date folder) are found too.
    drive = make_kitti_drive(tmp_path / "nested", "2011_09_26_drive_0005_sync", 9)
    flat = tmp_path / "flat"
    flat.mkdir()
    drive.rename(flat / drive.name)
    plan = plan_kitti(flat, train_drives=[], test_drives=["2011_09_26_drive_0005"])
    assert [j.name for j in plan.jobs] == ["2011_09_26_drive_0005_sync_image_02"]
    with pytest.raises(UsageError, match="in both"):
        plan_kitti(flat, train_drives=["2011_09_26_drive_0005"], test_drives=["2011_09_26_drive_0005"])


def test_no_drives_at_all(tmp_path: Path) -> None:
    (tmp_path / "2011_09_26").mkdir()
    with pytest.raises(
        DataError, match=r"no KITTI drives found; expected <date>/<date>_drive_<id>_sync/image_02"
    ):
        plan_kitti(tmp_path)
