"""Read videos frame by frame and write mp4 / gif, always as uint8 RGB frames.

Reading uses OpenCV (its wheels bundle FFmpeg: mp4, avi, mkv, webm, mov). Writing pipes raw frames
into the FFmpeg binary shipped by ``imageio-ffmpeg``, so any frame size works: odd sizes are padded
by one replicated row/column for yuv420p mp4, and gifs get a generated palette.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

import cv2
import numpy as np

from framepred.errors import DataError
from framepred.io.atomic import temporary_sibling
from framepred.io.images import check_rgb
from framepred.io.paths import VIDEO_SUFFIXES

WRITE_SUFFIXES = (".mp4", ".gif")

# The FFmpeg inside OpenCV prints decoder complaints ("[h264 @ 0x...] Invalid NAL unit size") straight
# to stderr; framepred reports a bad video itself in one line, so silence it unless the user set a level.
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")


def is_video_file(path: str | os.PathLike) -> bool:
    path = Path(path)
    return path.is_file() and path.suffix.lower() in VIDEO_SUFFIXES


class VideoReader:
    """Iterate a video's frames as uint8 RGB arrays.

    ``frame_count`` is what the container declares (may be 0 when unknown); after a full pass,
    ``frames_read`` holds the real count and ``truncated`` tells whether the stream ended early.
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        if not self.path.exists():
            raise DataError(f"{self.path}: no such video file; check the path")
        if self.path.is_dir():
            raise DataError(f"{self.path}: is a folder, expected a video file")
        self._capture = cv2.VideoCapture(str(self.path))
        if not self._capture.isOpened():
            self._capture.release()
            raise DataError(
                f"{self.path}: not a readable video (corrupt, truncated or unsupported); re-encode it as mp4"
            )
        self.fps = float(self._capture.get(cv2.CAP_PROP_FPS)) or 0.0
        self.frame_count = max(0, int(self._capture.get(cv2.CAP_PROP_FRAME_COUNT)))
        self.size = (
            int(self._capture.get(cv2.CAP_PROP_FRAME_WIDTH)),
            int(self._capture.get(cv2.CAP_PROP_FRAME_HEIGHT)),
        )
        self.frames_read = 0

    @property
    def truncated(self) -> bool:
        # Containers round their declared count; a stream that stops well short of it was cut off.
        slack = max(2, self.frame_count // 50)
        return self.frame_count > 0 and self.frames_read < self.frame_count - slack

    def __iter__(self) -> Iterator[np.ndarray]:
        while True:
            ok, frame = self._capture.read()
            if not ok or frame is None:
                break
            self.frames_read += 1
            yield cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
        if self.frames_read == 0:
            raise DataError(
                f"{self.path}: the video has no decodable frames (corrupt or truncated); re-encode it"
            )

    def close(self) -> None:
        self._capture.release()

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_video(path: str | os.PathLike) -> list[np.ndarray]:
    """All frames of a (short) video; raises DataError when it is truncated or unreadable."""
    with VideoReader(path) as reader:
        frames = list(reader)
        if reader.truncated:
            raise DataError(
                f"{path}: truncated video (decoded {reader.frames_read} of {reader.frame_count} frames); "
                "download or re-encode it again"
            )
    return frames


def _ffmpeg() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


class VideoWriter:
    """Stream uint8 RGB frames into an mp4 (H.264) or gif; the file appears only when closed cleanly.

    Frame size is fixed by the first frame. Memory stays flat: frames go straight into FFmpeg's pipe.
    """

    def __init__(self, path: str | os.PathLike, fps: float = 10.0, quality_crf: int = 18) -> None:
        self.path = Path(path)
        self.suffix = self.path.suffix.lower()
        if self.suffix not in WRITE_SUFFIXES:
            raise DataError(f"{self.path}: cannot write {self.suffix!r} video; use .mp4 or .gif")
        if fps <= 0:
            raise DataError(f"{self.path}: frame rate must be positive, got {fps}")
        if not self.path.parent.is_dir():
            raise DataError(f"{self.path}: folder {self.path.parent} does not exist; create it first")
        self.fps = fps
        self.crf = quality_crf
        self.temp = temporary_sibling(self.path, "partial", self.suffix)
        self.frames_written = 0
        self._size: tuple[int, int] | None = None
        self._process: subprocess.Popen | None = None

    def _start(self, width: int, height: int) -> None:
        # yuv420p mp4 needs even sizes: pad odd ones by one replicated pixel instead of failing.
        # GIF takes any size, so it keeps the frames' own.
        even = self.suffix == ".mp4"
        out_w, out_h = (width + width % 2, height + height % 2) if even else (width, height)
        self._padding = (out_w - width, out_h - height)
        head = [_ffmpeg(), "-y", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "rgb24"]
        head += ["-s", f"{out_w}x{out_h}", "-r", f"{self.fps}", "-i", "-"]
        if self.suffix == ".mp4":
            tail = [
                "-c:v",
                "libx264",
                "-pix_fmt",
                "yuv420p",
                "-crf",
                str(self.crf),
                "-movflags",
                "+faststart",
            ]
            tail += ["-f", "mp4"]
        else:
            tail = [
                "-filter_complex",
                "split[a][b];[a]palettegen[p];[b][p]paletteuse",
                "-loop",
                "0",
                "-f",
                "gif",
            ]
        self._process = subprocess.Popen(
            head + tail + [str(self.temp)], stdin=subprocess.PIPE, stderr=subprocess.PIPE
        )
        self._size = (width, height)

    def write(self, rgb: np.ndarray) -> None:
        check_rgb(rgb)
        height, width = rgb.shape[:2]
        if self._process is None:
            self._start(width, height)
        elif (width, height) != self._size:
            raise DataError(
                f"{self.path}: frame {self.frames_written} is {width}x{height}, "
                f"earlier ones {self._size[0]}x{self._size[1]}"
            )
        if any(self._padding):
            rgb = np.pad(rgb, ((0, self._padding[1]), (0, self._padding[0]), (0, 0)), mode="edge")
        try:
            self._process.stdin.write(np.ascontiguousarray(rgb).tobytes())
        except BrokenPipeError as error:
            message = self._process.stderr.read().decode(errors="replace").strip() or "no message"
            self.abort()
            raise DataError(f"{self.path}: the video encoder stopped ({message.splitlines()[-1]})") from error
        self.frames_written += 1

    def close(self) -> None:
        """Finish the file and move it into place; raises DataError when nothing valid was written."""
        if self._process is None:
            raise DataError(f"{self.path}: no frames were given, so no video was written")
        self._process.stdin.close()
        message = self._process.stderr.read().decode(errors="replace").strip()
        code = self._process.wait()
        self._process = None
        if code != 0 or not self.temp.exists() or self.temp.stat().st_size == 0:
            self.temp.unlink(missing_ok=True)
            last = message.splitlines()[-1] if message else f"exit code {code}"
            raise DataError(f"{self.path}: the video encoder failed ({last})")
        os.replace(self.temp, self.path)

    def abort(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self._process = None
        self.temp.unlink(missing_ok=True)

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(self, exc_type: type | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def write_video(path: str | os.PathLike, frames, fps: float = 10.0) -> int:
    """Write an iterable of RGB frames to ``path`` (.mp4 or .gif); returns the number written."""
    with VideoWriter(path, fps) as writer:
        for frame in frames:
            writer.write(frame)
    return writer.frames_written
