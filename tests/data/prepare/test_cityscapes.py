from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from framepred.data.manifest import STATE_NAME
from framepred.data.prepare.cityscapes import plan_cityscapes, prepare_cityscapes
from framepred.data.tree import FrameTree
from framepred.errors import DataError, UsageError
from tests.data.prepare.raw_trees import assert_sequence_is, make_cityscapes, tree_digest

SIZE = (32, 16)


def snippet(raw: Path, split: str, city: str, seq: int, first: int) -> list[Path]:
    folder = raw / "leftImg8bit_sequence" / split / city
    return [folder / f"{city}_{seq:06d}_{f:06d}_leftImg8bit.png" for f in range(first, first + 30)]


@pytest.fixture
def raw(tmp_path: Path) -> Path:
    # Two snippets of one recorded sequence (aachen 000000) as real Cityscapes has, one of another city;
    # cities are given out of order on purpose.
    return make_cityscapes(
        tmp_path / "raw",
        {
            "train": {"bochum": [(0, 0)], "aachen": [(3, 5), (0, 100), (0, 400)]},
            "val": {"lindau": [(1, 7)], "frankfurt": [(0, 0)]},
        },
    )


def test_splits_order_names_sizes_and_pixels(raw: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = prepare_cityscapes(raw, out, size=SIZE)
    tree = FrameTree(out)
    assert tree.splits() == ["test", "train"]
    assert [s.name for s in tree.sequences("train")] == ["000000", "000001", "000002", "000003"]
    assert [s.name for s in tree.sequences("test")] == ["000000", "000001"]
    # Sorted city and file order, chunks of 30; val -> test.
    assert_sequence_is(tree, "train", "000000", snippet(raw, "train", "aachen", 0, 100), SIZE)
    assert_sequence_is(tree, "train", "000001", snippet(raw, "train", "aachen", 0, 400), SIZE)
    assert_sequence_is(tree, "train", "000002", snippet(raw, "train", "aachen", 3, 5), SIZE)
    assert_sequence_is(tree, "train", "000003", snippet(raw, "train", "bochum", 0, 0), SIZE)
    assert_sequence_is(tree, "test", "000000", snippet(raw, "val", "frankfurt", 0, 0), SIZE)
    assert_sequence_is(tree, "test", "000001", snippet(raw, "val", "lindau", 1, 7), SIZE)
    assert result.written == 6 and result.frames == 180 and not result.nothing_to_do
    manifest = tree.manifest
    assert manifest["source"] == "cityscapes" and manifest["frame_size"] == list(SIZE)
    assert manifest["protocol"] == {
        "name": "dmvfn",
        "window": 14,
        "stride": None,
        "splits": ["test"],
        "windows": {"test": 2},
    }
    assert manifest["origins"]["test/000001"].startswith(
        "leftImg8bit_sequence/val/lindau/lindau_000001_000007"
    )


def test_default_size_is_the_official_1024x512(raw: Path) -> None:
    assert plan_cityscapes(raw).size == (1024, 512)
    assert plan_cityscapes(raw / "leftImg8bit_sequence", size=(64, 32)).size == (64, 32)


def test_second_run_does_nothing_and_source_is_untouched(raw: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    before = tree_digest(raw)
    prepare_cityscapes(raw, out, size=SIZE)
    written = tree_digest(out)
    again = prepare_cityscapes(raw, out, size=SIZE)
    assert again.nothing_to_do and again.written == 0 and again.skipped == 6
    assert tree_digest(out) == written  # not even the manifest was rewritten
    assert tree_digest(raw) == before


def test_resume_after_interruption(raw: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    prepare_cityscapes(raw, out, size=SIZE)
    complete = tree_digest(out)
    # What a run killed while writing train/000002 leaves: no manifest, that sequence only as a hidden
    # half-written temporary folder, everything before it complete.
    (out / "manifest.json").unlink()
    for frame in (out / "train" / "000002").iterdir():
        frame.unlink()
    (out / "train" / "000002").rmdir()
    partial = out / "train" / ".000002.partial-999-deadbeef"
    partial.mkdir()
    (partial / "000000.png").write_bytes(b"\x89PNG half")
    result = prepare_cityscapes(raw, out, size=SIZE)
    assert (result.written, result.skipped) == (1, 5)
    assert not partial.exists()
    resumed = tree_digest(out)
    assert resumed.keys() == complete.keys()
    for path, (_, digest) in complete.items():
        if path != "manifest.json":
            assert resumed[path][1] == digest, path
    assert json.loads((out / "manifest.json").read_text())["sequence_count"] == 6


def test_two_workers_give_the_same_tree(raw: Path, tmp_path: Path) -> None:
    prepare_cityscapes(raw, tmp_path / "one", size=SIZE, workers=1)
    prepare_cityscapes(raw, tmp_path / "two", size=SIZE, workers=2)
    one, two = tree_digest(tmp_path / "one"), tree_digest(tmp_path / "two")
    assert {k: v[1] for k, v in one.items()} == {k: v[1] for k, v in two.items()}


def test_missing_frame_inside_a_snippet_is_named(raw: Path) -> None:
    missing = snippet(raw, "train", "aachen", 0, 400)[12]
    missing.unlink()
    with pytest.raises(DataError, match=str(missing)):
        plan_cityscapes(raw)


def test_missing_last_frame_is_reported(raw: Path) -> None:
    last = snippet(raw, "val", "lindau", 1, 7)[-1]
    last.unlink()
    with pytest.raises(DataError, match="has 29 frames, expected 30"):
        plan_cityscapes(raw)


def test_unreadable_and_mixed_size_frames_are_named(raw: Path, tmp_path: Path) -> None:
    bad = snippet(raw, "train", "bochum", 0, 0)[4]
    bad.write_bytes(b"not a png")
    with pytest.raises(DataError, match=str(bad)):
        prepare_cityscapes(raw, tmp_path / "a", size=SIZE)
    assert cv2.imwrite(str(bad), np.zeros((30, 50, 3), np.uint8))
    with pytest.raises(DataError, match=f"{bad}: frame is 50x30 but .* is 48x24"):
        prepare_cityscapes(raw, tmp_path / "b", size=SIZE)
    assert not (tmp_path / "b" / "manifest.json").exists()
    assert not (tmp_path / "b" / "train" / "000003").exists()  # the bad sequence was not committed


def test_unknown_layout_says_what_was_expected(tmp_path: Path) -> None:
    (tmp_path / "raw" / "somewhere").mkdir(parents=True)
    with pytest.raises(DataError, match=r"expected leftImg8bit_sequence/\{train,val\}/<city>/") as error:
        plan_cityscapes(tmp_path / "raw")
    assert "\n" not in str(error.value)


def test_only_val_present_gives_only_test(tmp_path: Path) -> None:
    raw = make_cityscapes(tmp_path / "raw", {"val": {"munster": [(0, 0)]}})
    plan = plan_cityscapes(raw, size=SIZE)
    assert {job.split for job in plan.jobs} == {"test"}
    assert any("no 'train' split" in note for note in plan.notes)


def test_other_options_or_foreign_folder_are_refused(raw: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    prepare_cityscapes(raw, out, size=SIZE)
    for split in ("train", "test"):  # each split records how it was made
        assert json.loads((out / split / STATE_NAME).read_text()) == {
            "source": "cityscapes",
            "size": [32, 16],
        }
    with pytest.raises(UsageError, match="out/train: was prepared with .* use the same options"):
        prepare_cityscapes(raw, out, size=(16, 8))
    foreign = tmp_path / "foreign"
    (foreign / "notes").mkdir(parents=True)
    with pytest.raises(UsageError, match="not empty"):
        prepare_cityscapes(raw, foreign, size=SIZE)
    with pytest.raises(UsageError, match="inside the raw folder"):
        prepare_cityscapes(raw, raw / "prepared", size=SIZE)


def test_a_run_that_failed_before_writing_can_change_options(raw: Path, tmp_path: Path) -> None:
    bad = snippet(raw, "train", "aachen", 0, 100)[0]
    good = bad.read_bytes()
    bad.write_bytes(b"broken")
    with pytest.raises(DataError, match=str(bad)):
        prepare_cityscapes(raw, tmp_path / "out", size=SIZE)
    bad.write_bytes(good)
    assert prepare_cityscapes(raw, tmp_path / "out", size=(16, 8)).written == 6


@pytest.mark.slow
def test_real_2048x1024_frames_match_the_official_preparation(shared_data: Path, tmp_path: Path) -> None:
    """The real Cityscapes frames in ../shared/data, as one full-size snippet, prepared at 1024x512."""
    sources = sorted((shared_data / "cityscapes_aachen_seq0003_vid2vid").glob("*.jpg"))
    if len(sources) < 2:
        pytest.skip("cityscapes_aachen_seq0003_vid2vid not found")
    city = tmp_path / "raw" / "leftImg8bit_sequence" / "val" / "aachen"
    city.mkdir(parents=True)
    for frame in range(30):
        rgb = cv2.imread(str(sources[frame % len(sources)]))
        assert rgb.shape == (1024, 2048, 3)
        cv2.imwrite(str(city / f"aachen_000003_{frame:06d}_leftImg8bit.png"), rgb)
    prepare_cityscapes(tmp_path / "raw", tmp_path / "out", workers=2)
    tree = FrameTree(tmp_path / "out")
    assert_sequence_is(tree, "test", "000000", sorted(city.iterdir()), (1024, 512))
    assert tree.manifest["frame_size"] == [1024, 512]
