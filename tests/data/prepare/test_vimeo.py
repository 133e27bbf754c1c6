from __future__ import annotations

from pathlib import Path

import pytest

from framepred.data.prepare.vimeo import plan_vimeo, prepare_vimeo
from framepred.data.tree import FrameTree
from framepred.errors import DataError
from tests.data.prepare.raw_trees import assert_sequence_is, tree_digest, write_frame

TRIPLETS = ["00001/0001", "00001/0002", "00002/0010", "00003/0001"]


@pytest.fixture
def raw(tmp_path: Path) -> Path:
    base = tmp_path / "raw" / "vimeo_triplet"
    for triplet in TRIPLETS:
        for name in ("im1.png", "im2.png", "im3.png"):
            write_frame(base / "sequences" / triplet / name, 28, 16)
    (base / "tri_trainlist.txt").write_text("00001/0001\n00002/0010\n00003/0001\n")
    (base / "tri_testlist.txt").write_text("00001/0002\n\n")
    return tmp_path / "raw"


def test_one_sequence_per_triplet_from_the_lists(raw: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    before = tree_digest(raw)
    prepare_vimeo(raw, out)
    tree = FrameTree(out)
    assert [s.name for s in tree.sequences("train")] == ["00001_0001", "00002_0010", "00003_0001"]
    assert [s.name for s in tree.sequences("test")] == ["00001_0002"]
    folder = raw / "vimeo_triplet" / "sequences" / "00001" / "0002"
    assert_sequence_is(tree, "test", "00001_0002", [folder / f"im{i}.png" for i in (1, 2, 3)], None)
    assert tree.manifest["protocol"] == {
        "name": "dmvfn",
        "window": 3,
        "stride": None,
        "splits": ["test"],
        "windows": {"test": 1},
    }
    assert tree.manifest["frame_size"] == [28, 16]
    assert tree_digest(raw) == before
    assert prepare_vimeo(raw, out).nothing_to_do


def test_split_file_replaces_the_test_list(raw: Path, tmp_path: Path) -> None:
    split_file = tmp_path / "mine.txt"
    split_file.write_text("00003/0001\n")
    plan = plan_vimeo(raw / "vimeo_triplet", split_file=split_file, size=(32, 16))
    assert [(j.split, j.name) for j in plan.jobs] == [
        ("train", "00001_0001"),
        ("train", "00001_0002"),
        ("train", "00002_0010"),
        ("test", "00003_0001"),
    ]


def test_missing_frame_triplet_and_lists(raw: Path, tmp_path: Path) -> None:
    base = raw / "vimeo_triplet"
    (base / "tri_testlist.txt").write_text("00001/0002\n00009/0009\n")
    with pytest.raises(DataError, match=r"sequences/00009/0009: not found, but .*tri_testlist.txt lists it"):
        plan_vimeo(raw)
    (base / "tri_testlist.txt").write_text("00001/0002\n")
    (base / "sequences" / "00002" / "0010" / "im3.png").unlink()
    with pytest.raises(DataError, match=r"00002/0010/im3.png: missing; every triplet folder holds im1.png"):
        plan_vimeo(raw)
    (base / "tri_testlist.txt").unlink()
    (base / "tri_trainlist.txt").unlink()
    with pytest.raises(DataError, match=r"tri_testlist.txt: not found \(nor tri_trainlist.txt\)"):
        plan_vimeo(raw)
    with pytest.raises(DataError, match=r"sequences: not found; expected sequences/<a>/<b>/im1.png"):
        plan_vimeo(tmp_path)
