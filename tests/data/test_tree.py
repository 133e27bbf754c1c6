import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from framepred.data.tree import (
    FrameTree,
    SequenceWriter,
    discover_sequences,
    read_manifest,
    remove_stale_partials,
    summarise_tree,
    write_manifest,
)
from framepred.errors import DataError
from framepred.io.images import write_image
from tests.helpers import random_frames


def test_writer_then_reader(tmp_path: Path) -> None:
    frames = random_frames(3)
    with SequenceWriter(tmp_path, "train", "a") as writer:
        for frame in frames:
            writer.write(frame)
    tree = FrameTree(tmp_path)
    assert tree.splits() == ["train"]
    (sequence,) = tree.sequences()
    assert [p.name for p in sequence.frames] == ["000000.png", "000001.png", "000002.png"]
    assert np.array_equal(sequence.read(2), frames[2])


def test_failed_writer_leaves_no_sequence(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError), SequenceWriter(tmp_path, "train", "a") as writer:
        writer.write(random_frames(1)[0])
        raise RuntimeError("boom")
    assert FrameTree(tmp_path).sequences() == []
    assert list((tmp_path / "train").iterdir()) == []


def test_mixed_sizes_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="src/b.png"), SequenceWriter(tmp_path, "train", "a") as writer:
        writer.write(np.zeros((8, 8, 3), np.uint8), "src/a.png")
        writer.write(np.zeros((8, 9, 3), np.uint8), "src/b.png")
    assert not (tmp_path / "train" / "a").exists()


def test_killed_writer_leaves_nothing_a_reader_accepts(tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        import numpy as np, sys, time
        from framepred.data.tree import SequenceWriter
        with SequenceWriter({str(tmp_path)!r}, "train", "victim") as w:
            for i in range(10000):
                w.write(np.zeros((16, 16, 3), np.uint8))
                if i == 3:
                    print("writing", flush=True)
                time.sleep(0.01)
        """
    )
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "writing"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert FrameTree(tmp_path).sequences() == []
    with pytest.raises(DataError, match="no frame folders"):
        discover_sequences(tmp_path / "train")
    assert remove_stale_partials(tmp_path) == 1
    assert list((tmp_path / "train").iterdir()) == []


def test_hand_made_tree_without_manifest(tmp_path: Path) -> None:
    for split in ["train", "test"]:
        for index in [10, 2, 1]:
            (tmp_path / split / "clip").mkdir(parents=True, exist_ok=True)
            write_image(tmp_path / split / "clip" / f"f{index}.jpg", np.zeros((4, 4, 3), np.uint8))
    tree = FrameTree(tmp_path)
    assert tree.manifest == {}
    assert tree.splits() == ["test", "train"]
    assert [p.name for p in tree.sequences("test")[0].frames] == ["f1.jpg", "f2.jpg", "f10.jpg"]
    with pytest.raises(DataError, match="val"):
        tree.sequences("val")


def test_discover_accepts_tree_split_and_frame_folder(tmp_path: Path) -> None:
    with SequenceWriter(tmp_path, "train", "a") as writer:
        writer.write(random_frames(1)[0])
    assert len(discover_sequences(tmp_path)) == 1
    assert len(discover_sequences(tmp_path / "train")) == 1
    assert len(discover_sequences(tmp_path / "train" / "a")) == 1
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="empty"):
        discover_sequences(tmp_path / "empty")


def test_loose_images_beside_frame_folders_are_refused(tmp_path: Path) -> None:
    # One stray cover.jpg used to turn a folder of frame folders into a single one-frame sequence.
    for name in ("judo", "walk"):
        with SequenceWriter(tmp_path / "data", "x", name) as writer:
            writer.write(random_frames(1)[0])
    write_image(tmp_path / "data" / "x" / "cover.jpg", random_frames(1)[0])
    with pytest.raises(
        DataError, match=r"x: holds both images \(cover.jpg\) and frame folders \(judo, walk\)"
    ):
        discover_sequences(tmp_path / "data" / "x")


def test_manifest_round_trip_and_summary(tmp_path: Path) -> None:
    with SequenceWriter(tmp_path, "test", "a") as writer:
        for frame in random_frames(2, height=6, width=10):
            writer.write(frame)
    manifest = summarise_tree(tmp_path, source="unit")
    assert manifest["splits"] == {"test": {"sequences": 1, "frames": 2}}
    assert manifest["frame_size"] == [10, 6]
    write_manifest(tmp_path, manifest)
    assert read_manifest(tmp_path) == json.loads(json.dumps(manifest))
    (tmp_path / "manifest.json").write_text("{broken")
    with pytest.raises(DataError, match="manifest.json"):
        read_manifest(tmp_path)


def test_missing_tree_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="prepare"):
        FrameTree(tmp_path / "nowhere")


def test_existing_sequence_is_not_overwritten_by_default(tmp_path: Path) -> None:
    with SequenceWriter(tmp_path, "train", "a") as writer:
        writer.write(random_frames(1)[0])
    with pytest.raises(DataError, match="already exists"):
        SequenceWriter(tmp_path, "train", "a")
    started = time.monotonic()
    with SequenceWriter(tmp_path, "train", "a", overwrite=True) as writer:
        writer.write(random_frames(2)[1])
    assert time.monotonic() - started < 5
    assert len(FrameTree(tmp_path).sequences()[0]) == 1


def test_partials_of_a_live_writer_are_kept(tmp_path: Path) -> None:
    writer = SequenceWriter(tmp_path, "train", "live")
    writer.write(random_frames(1)[0])
    assert remove_stale_partials(tmp_path) == 0
    writer.commit()
    assert len(FrameTree(tmp_path).sequences()) == 1


def test_threaded_writer_gives_the_same_files(tmp_path: Path) -> None:
    frames = random_frames(9, seed=5)
    for threads, name in [(1, "serial"), (3, "threaded")]:
        with SequenceWriter(tmp_path, "train", name, threads=threads) as writer:
            for frame in frames:
                writer.write(frame)
    serial, threaded = sorted(FrameTree(tmp_path).sequences(), key=lambda s: s.name)
    assert [p.read_bytes() for p in serial.frames] == [p.read_bytes() for p in threaded.frames]


def test_threaded_writer_failure_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(DataError), SequenceWriter(tmp_path, "train", "a", threads=2) as writer:
        writer.write(np.zeros((8, 8, 3), np.uint8))
        writer.write(np.zeros((8, 9, 3), np.uint8))
    assert list((tmp_path / "train").iterdir()) == []
