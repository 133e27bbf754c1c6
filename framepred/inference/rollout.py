"""The job behind ``framepred rollout``: many future frames, streamed to a folder or a video.

Context comes from image files, a frame folder or a video; ``start`` is the index (in the folder or
video) of the first frame to predict, so the context is the frames just before it (default: the
end, i.e. predict past the last frame). Frames are written as they are predicted, so memory stays
flat however many steps are asked for, and nothing half-written is left on failure. Each step needs
the previous prediction, so steps cannot be batched; encoding and writing run behind in a thread
(and the real frames of ``--compare`` are decoded ahead), overlapping the next step's compute.
"""

from __future__ import annotations

import os
import shutil
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import numpy as np

from framepred.errors import DataError, UsageError
from framepred.inference.pipeline import WriteBehind, read_ahead
from framepred.inference.predictor import Predictor
from framepred.io.atomic import temporary_sibling
from framepred.io.images import list_images, read_image, write_image
from framepred.io.paths import IMAGE_SUFFIXES
from framepred.io.video import WRITE_SUFFIXES, VideoReader, VideoWriter, is_video_file

DEFAULT_FPS = 10.0
Progress = Callable[[Iterable, int], Iterable]


@dataclass
class Context:
    frames: list[np.ndarray]  # the model's context, oldest first
    start: int  # index of the first predicted frame in the source
    fps: float | None  # the source video's frame rate, when there is one
    source: Path | None  # the folder or video the context came from (None for image files)


def load_context(sources: list[Path], count: int, start: int | None = None) -> Context:
    """Read the ``count`` frames before ``start`` from image files, one folder, or one video."""
    if not sources:
        raise UsageError("give the context: two or more image files, a frame folder, or a video")
    if len(sources) > 1 or sources[0].suffix.lower() in IMAGE_SUFFIXES:
        if start is not None:
            raise UsageError("--start needs a frame folder or a video as context, not image files")
        if len(sources) < count:
            raise UsageError(
                f"this model reads {count} context frames: give at least {count} images, oldest first "
                f"(got {len(sources)})"
            )
        return Context([read_image(path) for path in sources[-count:]], len(sources), None, None)
    source = sources[0]
    if source.is_dir():
        files = list_images(source)
        start = len(files) if start is None else start
        _check_start(source, start, count, len(files))
        return Context([read_image(path) for path in files[start - count : start]], start, None, source)
    if not is_video_file(source):
        raise DataError(f"{source}: not an image, a frame folder or a video file; check the path")
    with VideoReader(source) as reader:
        window: deque = deque(maxlen=count)
        read = 0
        for frame in reader:
            if read == start:
                break
            window.append(frame)
            read += 1
        start = read if start is None else start
        _check_start(source, start, count, read)
        return Context(list(window), start, reader.fps or None, source)


def _check_start(source: Path, start: int, count: int, available: int) -> None:
    if available < count:
        raise DataError(f"{source}: has {available} frame(s); at least {count} are needed as context")
    if not count <= start <= available:
        raise UsageError(f"--start must be between {count} and {available} for {source}, got {start}")


def source_frames(path: Path, skip: int = 0) -> Iterator[np.ndarray]:
    """Frames of a folder or video, lazily, after skipping the first ``skip``."""
    if path.is_dir():
        for file in list_images(path)[skip:]:
            yield read_image(file)
    elif is_video_file(path):
        with VideoReader(path) as reader:
            for index, frame in enumerate(reader):
                if index >= skip:
                    yield frame
    else:
        raise DataError(f"{path}: --compare needs a frame folder or a video of the real future frames")


class FolderWriter:
    """Write ``000001.png``, ``000002.png`` ... into a hidden folder renamed to ``path`` when complete."""

    def __init__(self, path: Path) -> None:
        if path.exists() and (not path.is_dir() or any(path.iterdir())):
            raise UsageError(f"{path}: already exists and is not an empty folder; choose a new output folder")
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.temp = temporary_sibling(path)
        self.temp.mkdir()
        self.frames_written = 0

    def write(self, rgb: np.ndarray) -> None:
        self.frames_written += 1
        write_image(self.temp / f"{self.frames_written:06d}.png", rgb)

    def __enter__(self) -> FolderWriter:
        return self

    def __exit__(self, exc_type: type | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if exc_type is None:
            if self.path.exists():
                self.path.rmdir()  # checked empty above
            os.replace(self.temp, self.path)
        else:
            shutil.rmtree(self.temp, ignore_errors=True)


def open_output(path: Path, fps: float) -> VideoWriter | FolderWriter:
    """A video writer for ``.mp4``/``.gif``, otherwise a folder of numbered PNGs."""
    if path.suffix.lower() in WRITE_SUFFIXES:
        path.parent.mkdir(parents=True, exist_ok=True)
        return VideoWriter(path, fps)
    if path.suffix:
        raise UsageError(f"{path}: write the rollout to a folder, an .mp4 or a .gif")
    return FolderWriter(path)


def default_compare_path(output: Path) -> Path:
    if output.suffix.lower() in WRITE_SUFFIXES:
        return output.with_name(f"{output.stem}_compare{output.suffix}")
    return output.with_name(f"{output.name}_compare.mp4")


def rollout_job(
    predictor: Predictor,
    sources: list[Path],
    steps: int,
    output: Path,
    start: int | None = None,
    fps: float | None = None,
    compare: Path | None = None,
    compare_output: Path | None = None,
    progress: Progress | None = None,
) -> dict:
    """Predict ``steps`` frames after the context and stream them to ``output``; with ``compare``
    (the real future frames) also write a context | prediction | truth video (with the model's internal
    streams before the prediction, for models that have them)."""
    if steps < 1:
        raise UsageError(f"--steps must be at least 1, got {steps}")
    context = load_context(sources, predictor.context_frames, start)
    fps = fps or context.fps or DEFAULT_FPS
    truth: Iterator[np.ndarray] | None = None
    if compare is not None:
        # The same folder/video as the context: its future starts right after the context.
        same = context.source is not None and compare.resolve() == context.source.resolve()
        truth = read_ahead(source_frames(compare, skip=context.start if same else 0), depth=2)
        compare_output = compare_output or default_compare_path(output)
    if truth is not None and predictor.has_streams:  # models with internal streams show them too
        predictions = predictor.rollout_streams(context.frames, steps)
    else:
        predictions = ((frame, {}) for frame in predictor.rollout(context.frames, steps))
    with ExitStack() as stack:
        writer = stack.enter_context(open_output(output, fps))
        side_by_side = stack.enter_context(VideoWriter(compare_output, fps)) if truth is not None else None
        if truth is not None:
            stack.callback(truth.close)  # stops reading ahead when the rollout ends first
        # Entered last, so its pending writes finish before the writers above are closed.
        behind = stack.enter_context(WriteBehind(depth=2))
        for frame, streams in progress(predictions, steps) if progress else predictions:
            behind.submit(writer.write, frame)
            if side_by_side is not None:
                panel = _compare_panel(context.frames[-1], frame, next(truth, None), compare, streams)
                behind.submit(side_by_side.write, panel)
    return {
        "steps": steps,
        "output": str(output),
        "compare": None if compare_output is None else str(compare_output),
        "start": context.start,
        "fps": fps,
    }


def _compare_panel(
    last_context: np.ndarray,
    prediction: np.ndarray,
    truth: np.ndarray | None,
    source: Path,
    streams: dict[str, np.ndarray] | None = None,
) -> np.ndarray:
    """last context | the model's streams, if any (e.g. fusion images) | prediction | truth"""
    if truth is None:  # the real video ended before the rollout: show black
        truth = np.zeros_like(prediction)
    elif truth.shape != prediction.shape:
        raise DataError(
            f"{source}: its frames are {truth.shape[1]}x{truth.shape[0]}, the context is "
            f"{prediction.shape[1]}x{prediction.shape[0]}; compare with frames of the same size"
        )
    return np.concatenate([last_context, *(streams or {}).values(), prediction, truth], axis=1)
