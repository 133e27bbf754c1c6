"""``framepred predict`` for models that make videos: several frames per call, their internal streams,
and samples from noise.

Two optional hooks a model may offer (``framepred.models.interface``), both returning named
``B x K x 3 x H x W`` tensors in [0, 1], the first being the output video:

* ``streams(context)``: what the model's parts made for this context (VideoGAN: the video, the
  static background, the moving foreground and the mask); ``--compare`` shows them side by side;
* ``sample(count, generator)``: videos from noise (an unconditional VideoGAN); ``--samples N``.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from pathlib import Path

import cv2
import numpy as np
import torch

from framepred.errors import UsageError
from framepred.inference.predictor import Predictor, to_uint8
from framepred.inference.rollout import DEFAULT_FPS, FolderWriter, default_compare_path
from framepred.io.atomic import temporary_sibling
from framepred.io.images import read_image
from framepred.io.video import WRITE_SUFFIXES, VideoWriter
from framepred.models.interface import frames_per_call

SAMPLE_BATCH = 8  # videos generated per call when sampling


def _check_video_output(output: Path, what: str) -> None:
    if output.suffix and output.suffix.lower() not in WRITE_SUFFIXES:
        raise UsageError(f"{output}: {what}; write them to a .gif, an .mp4 or a folder")


def _writer(path: Path, fps: float) -> VideoWriter | FolderWriter:
    if path.suffix.lower() in WRITE_SUFFIXES:
        path.parent.mkdir(parents=True, exist_ok=True)
        return VideoWriter(path, fps)
    return FolderWriter(path)


def write_frames(path: Path, frames: Iterable[np.ndarray], fps: float) -> int:
    """Write uint8 RGB frames to a .gif/.mp4 or a new folder of PNGs; nothing half-written."""
    count = 0
    with _writer(path, fps) as writer:
        for frame in frames:
            writer.write(frame)
            count += 1
    return count


def _label(text: str, width: int) -> np.ndarray:
    """A white strip with ``text`` in black, ``width`` pixels wide (names the panel below it)."""
    scale = 0.35 if width < 160 else 0.6
    height = 14 if width < 160 else 22
    strip = np.full((height, width, 3), 255, np.uint8)
    cv2.putText(strip, text, (2, height - 4), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), 1, cv2.LINE_AA)
    return strip


def side_by_side(panels: dict[str, np.ndarray]) -> np.ndarray:
    """Equal-sized uint8 RGB images in a row, each under its name, 2-pixel white gaps between."""
    columns = []
    for name, image in panels.items():
        columns.append(np.concatenate([_label(name, image.shape[1]), image], 0))
        columns.append(np.full((columns[-1].shape[0], 2, 3), 255, np.uint8))
    return np.concatenate(columns[:-1], 1)


def _stream_frames(streams: dict[str, torch.Tensor], index: int) -> dict[str, list[np.ndarray]]:
    return {name: [to_uint8(frame) for frame in tensor[index]] for name, tensor in streams.items()}


def _model_streams(predictor: Predictor, frames: list[np.ndarray]) -> dict[str, torch.Tensor]:
    model = predictor.model
    if not callable(getattr(model, "streams", None)):
        name = getattr(model, "registered_name", type(model).__name__)
        raise UsageError(f"--compare shows a model's internal streams, and {name!r} has none to show")
    context = predictor._context(frames)
    if predictor.colour_order == "BGR":
        context = context.flip(2)
    with torch.inference_mode():
        streams = model.streams(context)
    return {k: (v.flip(2) if predictor.colour_order == "BGR" else v).float() for k, v in streams.items()}


def predict_video(
    predictor: Predictor,
    images: list[Path],
    output: Path,
    compare: bool = False,
    fps: float | None = None,
) -> list[dict]:
    """The context images, then the frames one call of the model predicts, as one video or folder;
    with ``compare`` also ``<output>_compare``: the newest input beside each of the model's streams."""
    count = predictor.context_frames
    if len(images) != count:
        raise UsageError(f"give {count} context image(s) (oldest first), got {len(images)}")
    steps = frames_per_call(predictor.model)
    _check_video_output(output, f"this model predicts {steps} frames at once" if steps > 1 else "a video")
    fps = fps or DEFAULT_FPS
    frames = [read_image(path) for path in images]
    compare_path = default_compare_path(output) if compare else None
    streams = _model_streams(predictor, frames) if compare else None  # checked before writing anything
    written = write_frames(output, [*frames, *predictor.rollout(frames, steps)], fps)
    record = {"inputs": [str(p) for p in images], "output": str(output), "frames": written}
    if streams is not None:
        named = _stream_frames(streams, 0)
        length = len(next(iter(named.values())))
        rows = (
            side_by_side({"input": frames[-1], **{k: v[t] for k, v in named.items()}}) for t in range(length)
        )
        write_frames(compare_path, rows, fps)
        record["compare"] = str(compare_path)
    return [record]


def sample_videos(
    predictor: Predictor,
    count: int,
    output: Path,
    seed: int | None = None,
    compare: bool = False,
    fps: float | None = None,
) -> list[dict]:
    """``count`` videos from noise into the new folder ``output`` (``sample_0001.gif`` ...), with
    ``compare`` also each one's streams side by side (``sample_0001_compare.gif``). The same seed
    (None: 0) and count give the same videos."""
    model = predictor.model
    if not callable(getattr(model, "sample", None)):
        name = getattr(model, "registered_name", type(model).__name__)
        raise UsageError(f"--samples needs a model that generates from noise; {name!r} predicts from frames")
    if count < 1:
        raise UsageError(f"--samples must be at least 1, got {count}")
    if output.suffix:
        raise UsageError(f"{output}: with --samples, -o names a new folder for the videos")
    if output.exists() and (not output.is_dir() or any(output.iterdir())):
        raise UsageError(f"{output}: already exists and is not an empty folder; choose a new output folder")
    fps = fps or DEFAULT_FPS
    generator = torch.Generator().manual_seed(0 if seed is None else seed)
    output.parent.mkdir(parents=True, exist_ok=True)
    temp = temporary_sibling(output)
    temp.mkdir()
    records = []
    try:
        for start in range(0, count, SAMPLE_BATCH):
            with torch.inference_mode():
                streams = model.sample(min(SAMPLE_BATCH, count - start), generator)
            for index in range(next(iter(streams.values())).shape[0]):
                name = f"sample_{start + index + 1:04d}"
                named = _stream_frames(streams, index)
                videos = list(named.values())
                write_frames(temp / f"{name}.gif", videos[0], fps)
                record = {"output": str(output / f"{name}.gif"), "frames": len(videos[0])}
                if compare:
                    rows = [side_by_side({k: v[t] for k, v in named.items()}) for t in range(len(videos[0]))]
                    write_frames(temp / f"{name}_compare.gif", rows, fps)
                    record["compare"] = str(output / f"{name}_compare.gif")
                records.append(record)
        if output.exists():
            output.rmdir()  # checked empty above
        os.replace(temp, output)
    finally:
        if temp.exists():
            shutil.rmtree(temp, ignore_errors=True)
    return records
