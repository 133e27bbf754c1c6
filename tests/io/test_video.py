from pathlib import Path

import numpy as np
import pytest

from framepred.errors import DataError
from framepred.io.video import VideoReader, VideoWriter, read_video, write_video
from tests.helpers import random_frames


def smooth_frames(count: int, height: int, width: int) -> list[np.ndarray]:
    # Smooth content compresses faithfully, so decoded pixels stay close to the originals.
    yy, xx = np.mgrid[0:height, 0:width]
    return [
        np.stack([(xx * 4 + 8 * t) % 256, (yy * 4) % 256, np.full_like(xx, 40 + 10 * t)], -1).astype(np.uint8)
        for t in range(count)
    ]


@pytest.mark.parametrize("height,width", [(48, 64), (37, 53)])
def test_mp4_round_trip_keeps_count_size_and_pixels(tmp_path: Path, height: int, width: int) -> None:
    frames = smooth_frames(12, height, width)
    path = tmp_path / "clip.mp4"
    assert write_video(path, frames, fps=12) == 12
    with VideoReader(path) as reader:
        back = list(reader)
        assert reader.fps == pytest.approx(12, rel=0.01)
    assert len(back) == 12
    # Odd sizes are padded by one pixel for yuv420p; the original area is intact.
    assert back[0].shape[0] >= height and back[0].shape[1] >= width
    error = np.abs(back[5][:height, :width].astype(int) - frames[5].astype(int)).mean()
    assert error < 6


def test_gif_is_written_and_readable(tmp_path: Path) -> None:
    path = tmp_path / "clip.gif"
    write_video(path, smooth_frames(5, 31, 41), fps=5)
    import imageio.v3 as iio

    assert iio.imread(path, index=None).shape[0] == 5


def test_gif_keeps_an_odd_frame_size(tmp_path: Path) -> None:
    # GIF has no even-size rule: padding it (as yuv420p mp4 needs) changed 41x31 frames to 42x32.
    path = tmp_path / "odd.gif"
    write_video(path, smooth_frames(3, 31, 41), fps=5)
    back = read_video(path)
    assert len(back) == 3 and back[0].shape == (31, 41, 3)


def test_failed_writer_leaves_nothing(tmp_path: Path) -> None:
    path = tmp_path / "clip.mp4"
    with pytest.raises(RuntimeError), VideoWriter(path, fps=5) as writer:
        writer.write(random_frames(1)[0])
        raise RuntimeError("interrupted")
    assert list(tmp_path.iterdir()) == []


def test_mixed_frame_sizes_are_refused(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="frame 1"), VideoWriter(tmp_path / "a.mp4") as writer:
        writer.write(np.zeros((16, 16, 3), np.uint8))
        writer.write(np.zeros((8, 16, 3), np.uint8))
    assert list(tmp_path.iterdir()) == []


def test_corrupt_and_missing_videos_are_clear_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00" * 1000)
    with pytest.raises(DataError, match="bad.mp4"):
        read_video(bad)
    with pytest.raises(DataError, match="none.mp4"):
        VideoReader(tmp_path / "none.mp4")


def test_truncated_video_is_detected(tmp_path: Path, udacity_video: Path) -> None:
    data = udacity_video.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match="cut.mp4"):
        read_video(cut)


def test_real_video_metadata(udacity_video: Path) -> None:
    with VideoReader(udacity_video) as reader:
        assert reader.size == (960, 540)
        assert reader.fps == pytest.approx(25.0)
        assert reader.frame_count == 221
