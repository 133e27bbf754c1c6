"""What every `prepare <source>` shares: the plan of sequences, layout checks, and the parallel writer.

A source module only *discovers*: it turns a raw download into a :class:`Plan` (which source frames
make which output sequence, in which split) and raises a one-line :class:`DataError` when the layout
is not what the official archive unpacks to. :func:`run_plan` then writes the plan into the canonical
frame tree through ``framepred.data.prepare.write`` (one ``SequenceWriter`` job per sequence, ``workers``
processes, or task K of N's share of them).

Unlike the official scripts, which overwrite the download and crash when re-run: the raw tree is only
ever read; each sequence appears only when complete (hidden temporary folder, then rename); a sequence
folder that already exists with the right number of frames is skipped, so an interrupted run resumes
and a repeated run does nothing; the manifest is written last, so its presence means the tree is whole.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from framepred.data.prepare.write import PrepareResult
from framepred.data.sharding import Shard
from framepred.errors import DataError
from framepred.io.paths import IMAGE_SUFFIXES, is_hidden, natural_key

__all__ = ["Plan", "PlannedSequence", "PrepareResult", "run_plan"]


@dataclass(frozen=True)
class PlannedSequence:
    """One output sequence: ``frames`` (source files, temporal order) become ``<split>/<name>``."""

    split: str
    name: str
    frames: tuple[str, ...]  # paths as strings: UCF101 plans hold 2.5 million of them
    origin: str  # where it came from, relative to RAW, recorded in the manifest


@dataclass
class Plan:
    """Everything one source's discovery decided, before any pixel is read."""

    source: str
    raw: Path
    jobs: list[PlannedSequence]
    size: tuple[int, int] | None  # output (width, height); None keeps the source size
    protocol: dict[str, Any] | None = None  # evaluation windows (docs/data-format.md)
    training_clips: dict[str, Any] | None = None  # the paper's training samples (data/training_clips.py)
    notes: list[str] = field(default_factory=list)  # things the user should know (skipped splits...)


# ----------------------------------------------------------------------------------------------------
# Helpers the source modules use for discovery and validation


def subfolders(folder: Path) -> list[Path]:
    """Visible sub-folders in natural order."""
    return sorted(
        (p for p in folder.iterdir() if p.is_dir() and not is_hidden(p)), key=lambda p: natural_key(p.name)
    )


def image_files(folder: Path) -> list[Path]:
    """Visible image files directly in ``folder``, in natural order."""
    files = [
        p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and not is_hidden(p) and p.is_file()
    ]
    return sorted(files, key=lambda p: natural_key(p.name))


def frame_number(path: Path) -> int | None:
    """The number at the end of a frame's file stem (``frame000012`` -> 12), or None."""
    match = re.search(r"(\d+)$", path.stem)
    return int(match.group(1)) if match else None


def check_consecutive(files: list[Path], folder: Path, what: str = "frame") -> None:
    """Raise a DataError naming the first missing frame when numbered frames skip a number.

    Official archives number frames without gaps, so a gap means an incomplete download or extraction.
    """
    if not files:
        raise DataError(f"{folder}: contains no {what} images; the download or extraction is incomplete")
    previous: Path | None = None
    for path in files:
        number = frame_number(path)
        if number is None:
            raise DataError(f"{path}: file name has no frame number; expected numbered frames in {folder}")
        if previous is not None:
            expected = frame_number(previous) + 1  # type: ignore[operator]
            if number != expected:
                digits = len(re.search(r"(\d+)$", previous.stem).group(1))  # type: ignore[union-attr]
                stem = previous.stem[: len(previous.stem) - digits] + f"{expected:0{digits}d}"
                missing = folder / (stem + previous.suffix)
                raise DataError(
                    f"{missing}: missing {what} (the frames jump from {previous.name} to {path.name}); "
                    "re-extract the archive"
                )
        previous = path


def read_list_file(path: Path) -> list[str]:
    """Entries of a split list: the first word of every non-empty line not starting with '#'."""
    if not path.is_file():
        raise DataError(f"{path}: no such split list file; check the path given to --split-file")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise DataError(
            f"{path}: cannot be read as a text list ({error}); give a file with one name per line"
        ) from error
    entries = [line.split()[0] for line in lines if line.strip() and not line.lstrip().startswith("#")]
    if not entries:
        raise DataError(f"{path}: the split list is empty; give a file with one sequence name per line")
    return entries


def missing_error(what: str, missing: list[str], expected_at: Callable[[str], Path], fix: str) -> DataError:
    """One line for 'these listed items are not in RAW', naming the first expected path."""
    more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
    return DataError(f"{expected_at(missing[0])}: not found, but {what} lists it{more}; {fix}")


def windows_per_sequence(jobs: Iterable[PlannedSequence], split: str, window: int, stride: int | None) -> int:
    """How many evaluation windows the protocol defines on ``split`` (docs/data-format.md)."""
    total = 0
    for job in jobs:
        if job.split != split or len(job.frames) < window:
            continue
        total += 1 if stride is None else (len(job.frames) - window) // stride + 1
    return total


def dmvfn_protocol(jobs: list[PlannedSequence], window: int, stride: int | None) -> dict[str, Any] | None:
    """The manifest's ``protocol`` entry for the DMVFN test windows, or None without a test split."""
    if not any(job.split == "test" for job in jobs):
        return None
    return {
        "name": "dmvfn",
        "window": window,
        "stride": stride,
        "splits": ["test"],
        "windows": {"test": windows_per_sequence(jobs, "test", window, stride)},
    }


# ----------------------------------------------------------------------------------------------------
# Writing: the shared job runner (framepred.data.prepare.jobs) with this producer


def source_frames(source: dict[str, Any]) -> Iterator[tuple[np.ndarray, str]]:
    """Frames of one planned sequence, checked for one size and resized (runs in a worker process)."""
    import cv2

    from framepred.data.resize import resize_frame
    from framepred.io.images import read_image

    size = tuple(source["size"]) if source["size"] else None
    first: tuple[str, tuple[int, int]] | None = None
    for path in source["frames"]:
        rgb = read_image(path)
        source_size = (rgb.shape[1], rgb.shape[0])
        if first is None:
            first = (path, source_size)
        elif source_size != first[1]:
            raise DataError(
                f"{path}: frame is {source_size[0]}x{source_size[1]} but {first[0]} is "
                f"{first[1][0]}x{first[1][1]}; one sequence must have one frame size (replace the odd file)"
            )
        # As the official prep: OpenCV bilinear (cv2.resize's default), straight from the original
        # frame. It works per channel, so resizing RGB gives the pixels of the official BGR result.
        yield resize_frame(rgb, size, interpolation=cv2.INTER_LINEAR), path


def run_plan(
    plan: Plan, out: str | os.PathLike, workers: int = 1, shard: Shard | None = None
) -> PrepareResult:
    """Write ``plan`` (or task ``shard``'s share) into the frame tree at ``out``; skip what is complete."""
    from framepred.data.manifest import SplitSource
    from framepred.data.prepare.jobs import SequenceJob
    from framepred.data.prepare.write import WritePlan, write_plan

    size = list(plan.size) if plan.size else None
    jobs = [SequenceJob(job.split, job.name, {"frames": list(job.frames), "size": size}) for job in plan.jobs]
    write = WritePlan(
        source=plan.source,
        jobs=jobs,
        produce=source_frames,
        split_source=SplitSource(plan.source, {"size": size}),
        weights=[len(job.frames) for job in plan.jobs],
        description=f"prepare {plan.source}",
        frame_counts=[len(job.frames) for job in plan.jobs],
        origins={f"{job.split}/{job.name}": job.origin for job in plan.jobs},
        protocol=plan.protocol,
        training_clips=plan.training_clips,
        notes=plan.notes,
        raw=plan.raw,
        exclusive=True,
    )
    if not plan.jobs:
        raise DataError(
            f"{plan.raw}: no {plan.source} sequences found to prepare; check RAW and the split options"
        )
    return write_plan(write, out, workers, shard)


def relative(path: Path, raw: Path) -> str:
    """``path`` relative to RAW, with forward slashes (for the manifest's ``origins``)."""
    try:
        return path.relative_to(raw).as_posix()
    except ValueError:
        return path.as_posix()
