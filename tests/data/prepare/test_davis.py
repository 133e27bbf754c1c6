from __future__ import annotations

from pathlib import Path

import pytest

from framepred.data.prepare.davis import plan_davis, prepare_davis
from framepred.data.tree import FrameTree
from framepred.errors import DataError
from tests.data.prepare.raw_trees import assert_sequence_is, tree_digest, write_frame

SEQUENCES = {"bike-packing": (10, (30, 16)), "blackswan": (9, (28, 16)), "judo": (6, (28, 16))}


@pytest.fixture
def raw(tmp_path: Path) -> Path:
    for name, (frames, size) in SEQUENCES.items():
        for index in range(frames):
            write_frame(tmp_path / "raw" / "JPEGImages" / "480p" / name / f"{index:05d}.jpg", *size)
    return tmp_path / "raw"


def test_all_sequences_as_test_with_their_own_sizes(raw: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    before = tree_digest(raw)
    prepare_davis(raw, out)
    tree = FrameTree(out)
    assert tree.splits() == ["test"]
    assert [s.name for s in tree.sequences()] == ["bike-packing", "blackswan", "judo"]
    folder = raw / "JPEGImages" / "480p" / "bike-packing"
    assert_sequence_is(tree, "test", "bike-packing", sorted(folder.iterdir()), None)
    assert tree.manifest["frame_size"] is None  # sizes differ between sequences and are kept
    assert tree.manifest["protocol"]["window"] == 9 and tree.manifest["protocol"]["stride"] is None
    assert tree.manifest["protocol"]["windows"] == {"test": 2}  # judo has only 6 frames
    assert tree_digest(raw) == before
    assert prepare_davis(raw, out).nothing_to_do


def test_split_file_and_size(raw: Path, tmp_path: Path) -> None:
    (raw / "ImageSets" / "2017").mkdir(parents=True)
    split_file = raw / "ImageSets" / "2017" / "val.txt"
    split_file.write_text("judo\nblackswan\n")
    plan = plan_davis(raw, size=(32, 16), split_file=split_file)
    assert [(j.split, j.name) for j in plan.jobs] == [("test", "blackswan"), ("test", "judo")]
    prepare_davis(raw, tmp_path / "out", size=(32, 16), split_file=split_file)
    assert FrameTree(tmp_path / "out").manifest["frame_size"] == [32, 16]
    split_file.write_text("judo\ncows\n")
    with pytest.raises(DataError, match=r"480p/cows: not found, but .*val.txt lists it"):
        plan_davis(raw, split_file=split_file)


def test_mixed_sizes_inside_a_sequence_and_bad_layout(raw: Path, tmp_path: Path) -> None:
    odd = raw / "JPEGImages" / "480p" / "judo" / "00003.jpg"
    write_frame(odd, 20, 16)
    with pytest.raises(DataError, match=rf"{odd}: frame is 20x16 but .*00000.jpg is 28x16"):
        prepare_davis(raw, tmp_path / "out")
    with pytest.raises(
        DataError, match=r"JPEGImages/480p: not found; expected JPEGImages/480p/<sequence>/00000.jpg"
    ):
        plan_davis(tmp_path / "out")
