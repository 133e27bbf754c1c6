"""The job behind ``framepred predict``: next frames from image files or from a frame folder."""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterable
from pathlib import Path

from framepred.errors import DataError, UsageError
from framepred.inference.predictor import Predictor
from framepred.io.images import list_images, read_image, write_image

Progress = Callable[[Iterable, int], Iterable]


def predict_files(
    predictor: Predictor,
    images: list[Path],
    output: str | os.PathLike | None,
    input_dir: str | os.PathLike | None = None,
    progress: Progress | None = None,
) -> list[dict[str, str]]:
    """Either ``images`` (exactly the model's context frames, oldest first) -> the image ``output``,
    or every window of consecutive frames in ``input_dir`` -> ``output``/<index>.png, where index is
    the position in the folder of the frame being predicted (the last one lies past the end).
    Returns one record per written file."""
    if output is None:
        raise UsageError("give the output with -o (an image file, or a folder with --input-dir)")
    count = predictor.context_frames
    if input_dir is not None:
        if images:
            raise UsageError("give image files or --input-dir, not both")
        return _predict_folder(predictor, Path(input_dir), Path(output), progress)
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


def _predict_folder(
    predictor: Predictor, folder: Path, output: Path, progress: Progress | None
) -> list[dict]:
    files = list_images(folder)
    count = predictor.context_frames
    if len(files) < count:
        raise DataError(f"{folder}: has {len(files)} image(s); at least {count} are needed")
    if output.exists() and not output.is_dir():
        raise UsageError(f"{output}: exists and is not a folder; with --input-dir, -o names a folder")
    output.mkdir(parents=True, exist_ok=True)
    window: deque = deque(maxlen=count)  # each frame is read once
    records = []
    for index, path in enumerate(progress(files, len(files)) if progress else files):
        window.append(read_image(path))
        if len(window) < count:
            continue
        target = output / f"{index + 1:06d}.png"
        write_image(target, predictor.predict(list(window)))
        records.append(
            {"inputs": [str(p) for p in files[index + 1 - count : index + 1]], "output": str(target)}
        )
    return records
