"""The job behind ``framepred predict``: next frames from image files or from a frame folder.

For a folder, frames are decoded ahead in a thread, ``batch_size`` consecutive windows run through
the network as one batch, and the predictions are encoded and written behind in another thread.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterable
from contextlib import closing
from pathlib import Path

from framepred.errors import DataError, UsageError
from framepred.inference.pipeline import WriteBehind, read_ahead
from framepred.inference.predictor import Predictor
from framepred.io.images import list_images, read_image, write_image
from framepred.models.interface import frames_per_call

Progress = Callable[[Iterable, int], Iterable]


def predict_files(
    predictor: Predictor,
    images: list[Path],
    output: str | os.PathLike | None,
    input_dir: str | os.PathLike | None = None,
    progress: Progress | None = None,
    compare: bool = False,
    samples: int | None = None,
    seed: int | None = None,
    fps: float | None = None,
    batch_size: int = 1,
) -> list[dict[str, str]]:
    """Either ``images`` (exactly the model's context frames, oldest first) -> the image ``output``,
    or every window of consecutive frames in ``input_dir`` -> ``output``/<index>.png, where index is
    the position in the folder of the frame being predicted (the last one lies past the end), in
    batches of ``batch_size`` windows.
    A model that predicts several frames per call, or ``compare`` (its internal streams), writes
    a video instead; ``samples`` videos from noise go to the folder ``output`` (``inference.videos``).
    Returns one record per written file."""
    if output is None:
        raise UsageError("give the output with -o (an image file, or a folder with --input-dir)")
    if batch_size < 1:
        raise UsageError(f"--batch-size must be at least 1, got {batch_size}")
    if samples is not None or compare or frames_per_call(predictor.model) > 1:
        return _predict_videos(predictor, images, Path(output), input_dir, compare, samples, seed, fps)
    count = predictor.context_frames
    if input_dir is not None:
        if images:
            raise UsageError("give image files or --input-dir, not both")
        return _predict_folder(predictor, Path(input_dir), Path(output), progress, batch_size)
    if len(images) != count:
        raise UsageError(
            f"this {predictor.model_name} model reads {count} context frames: give {count} images, "
            f"oldest first (got {len(images)})"
        )
    output = Path(output)
    if output.is_dir():
        raise UsageError(f"{output}: is a folder; give an image file name such as pred.png")
    frames = [read_image(path) for path in images]
    write_image(output, predictor.predict(frames))
    return [{"inputs": [str(p) for p in images], "output": str(output)}]


def _predict_videos(
    predictor: Predictor,
    images: list[Path],
    output: Path,
    input_dir: str | os.PathLike | None,
    compare: bool,
    samples: int | None,
    seed: int | None,
    fps: float | None,
) -> list[dict]:
    from framepred.inference.videos import predict_video, sample_videos

    if input_dir is not None:
        raise UsageError("--input-dir predicts one frame per window; give this model its context images")
    if samples is not None:
        if images:
            raise UsageError("--samples generates videos from noise: give no input images")
        return sample_videos(predictor, samples, output, seed, compare, fps)
    return predict_video(predictor, images, output, compare, fps)


def _predict_folder(
    predictor: Predictor, folder: Path, output: Path, progress: Progress | None, batch_size: int
) -> list[dict]:
    files = list_images(folder)
    count = predictor.context_frames
    if len(files) < count:
        raise DataError(f"{folder}: has {len(files)} image(s); at least {count} are needed")
    if output.exists() and not output.is_dir():
        raise UsageError(f"{output}: exists and is not a folder; with --input-dir, -o names a folder")
    output.mkdir(parents=True, exist_ok=True)
    window: deque = deque(maxlen=count)  # each frame is read once
    batch: list[tuple[int, list]] = []  # (index of the predicted frame, its context)
    records = []

    def flush(writer: WriteBehind) -> None:
        for (target_index, _), frame in zip(batch, predictor.predict_many([w for _, w in batch])):
            target = output / f"{target_index:06d}.png"
            writer.submit(write_image, target, frame)
            inputs = files[target_index - count : target_index]
            records.append({"inputs": [str(p) for p in inputs], "output": str(target)})
        batch.clear()

    frames = read_ahead((read_image(path) for path in files), depth=batch_size + count)
    with closing(frames), WriteBehind(depth=batch_size + 1) as writer:
        for index, frame in enumerate(progress(frames, len(files)) if progress else frames):
            window.append(frame)
            if len(window) < count:
                continue
            if batch and frame.shape != batch[0][1][-1].shape:
                flush(writer)  # a batch holds frames of one size; a size change inside a window is an error
            batch.append((index + 1, list(window)))
            if len(batch) == batch_size:
                flush(writer)
        if batch:
            flush(writer)
    return records
