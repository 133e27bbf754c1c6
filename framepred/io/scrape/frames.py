"""Frames out of a downloaded video file, through the ffmpeg binary that imageio-ffmpeg ships.

ffmpeg does the frame-rate conversion (``fps`` filter), the resize (``scale`` with area averaging,
which is what a downscale wants) and stops after the frames asked for, so a long video is not
decoded to the end just to keep its first 32 frames.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from framepred.errors import DataError


@dataclass(frozen=True)
class VideoProbe:
    """What ffmpeg's header says about a file. Zero means "not stated"."""

    duration: float
    fps: float
    size: tuple[int, int]  # (width, height)


class _ExpectedResizeNote(logging.Filter):
    """Drops imageio-ffmpeg's warning that the output size differs from the source: we asked for that."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("The frame size for reading")


_RESIZE_NOTE_FILTER = _ExpectedResizeNote()


def _open(path: Path, output_params: list[str]) -> Iterator:
    import imageio_ffmpeg

    logger = logging.getLogger("imageio_ffmpeg")
    if _RESIZE_NOTE_FILTER not in logger.filters:
        logger.addFilter(_RESIZE_NOTE_FILTER)

    return imageio_ffmpeg.read_frames(
        str(path), pix_fmt="rgb24", input_params=["-nostdin"], output_params=["-an", *output_params]
    )


def probe_video(path: Path) -> VideoProbe:
    """Read the header of a video file; DataError when ffmpeg finds no video in it."""
    reader = _open(path, [])
    try:
        meta = next(reader)
    except (OSError, RuntimeError, StopIteration, KeyError, ValueError) as err:
        raise DataError(f"{path.name} is not a video ffmpeg can read") from err
    finally:
        reader.close()
    width, height = meta.get("source_size") or meta.get("size") or (0, 0)
    if not width or not height:
        raise DataError(f"{path.name} has no video stream")
    return VideoProbe(
        duration=float(meta.get("duration") or 0.0),
        fps=float(meta.get("fps") or 0.0),
        size=(int(width), int(height)),
    )


def frame_filters(fps: float | None, size: tuple[int, int] | None) -> list[str]:
    """ffmpeg output options for the frame rate and size asked for (pure; tested directly)."""
    filters = []
    if fps is not None:
        filters.append(f"fps={fps:g}")
    if size is not None:
        filters.append(f"scale={size[0]}:{size[1]}:flags=area")
    return ["-vf", ",".join(filters)] if filters else []


def iter_frames(
    path: Path, fps: float | None = None, size: tuple[int, int] | None = None, limit: int | None = None
) -> Iterator[np.ndarray]:
    """Yield uint8 HxWx3 RGB frames of ``path``, resampled to ``fps`` and resized to ``size``."""
    params = frame_filters(fps, size)
    if limit is not None:
        params += ["-frames:v", str(limit)]
    reader = _open(path, params)
    try:
        try:
            meta = next(reader)
        except (OSError, RuntimeError, StopIteration, KeyError, ValueError) as err:
            raise DataError(f"{path.name} is not a video ffmpeg can read") from err
        width, height = meta["size"]
        try:
            for raw in reader:
                yield np.frombuffer(raw, dtype=np.uint8).reshape(height, width, 3)
        except RuntimeError as err:
            # imageio-ffmpeg raises RuntimeError when ffmpeg stops mid-frame (a truncated or corrupt file).
            first_line = str(err).splitlines()[0]
            raise DataError(f"{path.name}: ffmpeg failed while decoding ({first_line})") from err
    finally:
        reader.close()
