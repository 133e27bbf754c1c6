import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from framepred.data.prepare.frames import prepare_frames
from framepred.data.prepare.videos import keep_indices_for_fps, prepare_videos, sequence_names
from framepred.data.tree import FrameTree
from framepred.errors import DataError, UsageError
from framepred.io.images import read_image, write_image
from framepred.io.video import write_video
from tests.helpers import random_frames


def test_udacity_clip_gives_one_sequence_of_221_frames(tmp_path: Path, udacity_video: Path) -> None:
    summary = prepare_videos([udacity_video], tmp_path, size=(96, 54))
    (sequence,) = FrameTree(tmp_path).sequences("train")
    assert sequence.name == "solidWhiteRight" and len(sequence) == 221 == summary.frames
    assert sequence.read(0).shape == (54, 96, 3)
    assert FrameTree(tmp_path).manifest["frame_size"] == [96, 54]


def test_fps_resampling_keeps_the_right_share() -> None:
    keep = keep_indices_for_fps(25.0, 10.0)
    kept = [i for i in range(100) if next(keep)]
    assert len(kept) == 40 and kept[:5] == [0, 3, 5, 8, 10]
    keep_all = keep_indices_for_fps(25.0, None)
    assert all(next(keep_all) for _ in range(10))


def test_videos_in_a_folder_and_fps(tmp_path: Path) -> None:
    videos = tmp_path / "videos"
    videos.mkdir()
    write_video(videos / "clip 2.mp4", random_frames(10, 32, 32), fps=10)
    write_video(videos / "clip 10.mp4", random_frames(6, 32, 32), fps=10)
    (videos / "readme.txt").write_text("not a video")
    prepare_videos([videos], tmp_path / "out", fps=5, split="test")
    sequences = FrameTree(tmp_path / "out").sequences("test")
    assert [(s.name, len(s)) for s in sequences] == [("clip_2", 5), ("clip_10", 3)]


def test_bad_inputs_leave_no_output(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(DataError, match="notes.txt"):
        prepare_videos([text], tmp_path / "out")
    corrupt = tmp_path / "broken.mp4"
    corrupt.write_bytes(b"\x00\x01" * 500)
    with pytest.raises(DataError, match="broken.mp4"):
        prepare_videos([corrupt], tmp_path / "out")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DataError, match="empty"):
        prepare_videos([empty], tmp_path / "out")
    with pytest.raises(DataError, match="missing.mp4"):
        prepare_videos([tmp_path / "missing.mp4"], tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_truncated_video_leaves_no_sequence(tmp_path: Path, udacity_video: Path) -> None:
    cut = tmp_path / "cut.mp4"
    data = udacity_video.read_bytes()
    cut.write_bytes(data[: len(data) // 3])
    with pytest.raises(DataError, match="cut.mp4"):
        prepare_videos([cut], tmp_path / "out", size=(64, 36))
    assert not (tmp_path / "out" / "train" / "cut").exists()


def test_truncated_video_is_one_line_without_decoder_noise(tmp_path: Path, udacity_video: Path) -> None:
    # FFmpeg inside OpenCV used to print its own "[h264 @ 0x...] Invalid NAL unit" lines first.
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(udacity_video.read_bytes()[:200_000])
    command = [sys.executable, "-m", "framepred", "prepare", "videos", str(cut), "-o", str(tmp_path / "o")]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [result.stderr.strip()] and "cut.mp4" in result.stderr


def test_frames_folders_natural_order_and_same_pixels(tmp_path: Path) -> None:
    source = tmp_path / "source"
    frames = random_frames(12, seed=3)
    for index, frame in enumerate(frames):
        (source / "walk").mkdir(parents=True, exist_ok=True)
        write_image(source / "walk" / f"frame{index}.png", frame)
    prepare_frames(source, tmp_path / "out")
    (sequence,) = FrameTree(tmp_path / "out").sequences("train")
    assert [np.array_equal(sequence.read(i), f) for i, f in enumerate(frames)] == [True] * 12


def test_frames_from_shared_data_come_back_unchanged(tmp_path: Path, shared_data: Path) -> None:
    source = tmp_path / "source"
    source.mkdir()
    (source / "tram").symlink_to(shared_data / "hk_street_tram_realbasicvsr")
    (source / "judo").symlink_to(shared_data / "davis_judo_cutie")
    prepare_frames(source, tmp_path / "out", workers=2)
    tree = FrameTree(tmp_path / "out")
    judo, tram = tree.sequences("train")
    assert (len(judo), len(tram)) == (16, 20)
    original = read_image(shared_data / "hk_street_tram_realbasicvsr" / "000007.png")
    assert np.array_equal(tram.read(7), original)
    assert np.array_equal(judo.read(3), read_image(shared_data / "davis_judo_cutie" / "000003.jpg"))


def test_frames_copies_a_tree_with_its_split_and_sequence_names(tmp_path: Path) -> None:
    # The same sequence name in two splits used to come out as train/a-2: names are per split.
    for split in ("train", "test"):
        for name in ("a", "b"):
            (tmp_path / "tree" / split / name).mkdir(parents=True)
            write_image(tmp_path / "tree" / split / name / "0.png", np.zeros((8, 8, 3), np.uint8))
    prepare_frames(tmp_path / "tree", tmp_path / "copy")
    copied = [(s.split, s.name) for s in FrameTree(tmp_path / "copy").sequences()]
    assert copied == [("test", "a"), ("test", "b"), ("train", "a"), ("train", "b")]


def test_frames_mixed_sizes_and_unreadable_are_named(tmp_path: Path) -> None:
    source = tmp_path / "source" / "seq"
    source.mkdir(parents=True)
    write_image(source / "1.png", np.zeros((8, 8, 3), np.uint8))
    write_image(source / "2.png", np.zeros((9, 8, 3), np.uint8))
    with pytest.raises(DataError, match="2.png"):
        prepare_frames(source.parent, tmp_path / "out")
    assert not (tmp_path / "out").exists()  # no sequence, and no empty tree either
    (source / "2.png").write_bytes(b"garbage")
    with pytest.raises(DataError, match="2.png"):
        prepare_frames(source.parent, tmp_path / "out")


def test_a_first_run_that_fails_leaves_no_output_folder(tmp_path: Path) -> None:
    (tmp_path / "source" / "seq").mkdir(parents=True)
    write_image(tmp_path / "source" / "seq" / "1.png", np.zeros((8, 8, 3), np.uint8))
    (tmp_path / "source" / "seq" / "2.png").write_bytes(b"garbage")
    # It used to leave out/train/ (empty) behind, which looks like a prepared, empty tree.
    with pytest.raises(DataError, match="2.png"):
        prepare_frames(tmp_path / "source", tmp_path / "out")
    assert not (tmp_path / "out").exists()
    (tmp_path / "kept").mkdir()  # a folder that was there before is never removed
    with pytest.raises(DataError, match="2.png"):
        prepare_frames(tmp_path / "source", tmp_path / "kept")
    assert (tmp_path / "kept").is_dir()


def test_rerun_with_another_size_or_fps_is_refused(tmp_path: Path) -> None:
    videos = tmp_path / "videos"
    videos.mkdir()
    write_video(videos / "a.mp4", random_frames(6, 32, 32), fps=10)
    prepare_videos([videos], tmp_path / "out", size=(16, 16))
    # Skipping the 16x16 sequence while the user asked for 24x24 (or every other frame) misleads.
    with pytest.raises(UsageError, match="out/train: was prepared with .*use the same options"):
        prepare_videos([videos], tmp_path / "out", size=(24, 24))
    with pytest.raises(UsageError, match="use the same options"):
        prepare_videos([videos], tmp_path / "out", size=(16, 16), fps=5)
    assert prepare_videos([videos], tmp_path / "out", size=(16, 16)).skipped == 1
    write_video(videos / "b.mp4", random_frames(4, 32, 32), fps=10)  # adding videos is fine
    assert prepare_videos([videos], tmp_path / "out", size=(16, 16)).written == 1
    (tmp_path / "frames" / "seq").mkdir(parents=True)
    write_image(tmp_path / "frames" / "seq" / "1.png", np.zeros((8, 8, 3), np.uint8))
    prepare_frames(tmp_path / "frames", tmp_path / "tree")
    with pytest.raises(UsageError, match="use the same options"):
        prepare_frames(tmp_path / "frames", tmp_path / "tree", size=(4, 4))


@pytest.mark.parametrize("fps", [0.0, -2.0, float("nan")])
def test_fps_must_be_a_positive_number(tmp_path: Path, fps: float) -> None:
    # NaN passed the "fps <= 0" check and kept only the first frame of every video.
    write_video(tmp_path / "a.mp4", random_frames(4, 16, 16), fps=10)
    with pytest.raises(UsageError, match="--fps must be positive"):
        prepare_videos([tmp_path / "a.mp4"], tmp_path / "out", fps=fps)
    assert not (tmp_path / "out").exists()


def test_output_that_is_a_file_says_so(tmp_path: Path) -> None:
    (tmp_path / "source" / "seq").mkdir(parents=True)
    write_image(tmp_path / "source" / "seq" / "1.png", np.zeros((8, 8, 3), np.uint8))
    taken = tmp_path / "taken"
    taken.write_text("precious")
    # Not "(File exists)": the user must learn that -o names a file, and the file must survive.
    with pytest.raises(DataError, match=r"taken: is a file, not a folder; choose another -o"):
        prepare_frames(tmp_path / "source", taken)
    assert taken.read_text() == "precious"


def test_sequence_names_are_safe_and_unique() -> None:
    assert sequence_names(["a b", "a b", "../x", ""]) == ["a_b", "a_b-2", "x", "sequence"]


def test_unicode_video_names_are_kept() -> None:
    assert sequence_names(["走 路", "judo ü"]) == ["走_路", "judo_ü"]
