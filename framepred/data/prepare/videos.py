"""`framepred prepare videos`: each video file becomes one sequence of the frame tree."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from framepred.data.manifest import SplitSource
from framepred.data.prepare.jobs import SequenceJob
from framepred.data.prepare.write import PrepareResult, WritePlan, write_plan
from framepred.data.resize import resize_frame
from framepred.data.sharding import Shard
from framepred.errors import DataError, UsageError
from framepred.io.paths import VIDEO_SUFFIXES, is_hidden, natural_key
from framepred.io.video import VideoReader


def find_videos(inputs: list[Path]) -> list[Path]:
    """Video files named directly, plus those inside named folders (not recursive), in natural order."""
    if not inputs:
        raise UsageError("give at least one video file or folder of videos")
    videos: list[Path] = []
    for path in inputs:
        if not path.exists():
            raise DataError(f"{path}: no such file or folder; check the path")
        if path.is_dir():
            found = [
                p
                for p in path.iterdir()
                if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES and not is_hidden(p)
            ]
            if not found:
                raise DataError(
                    f"{path}: folder contains no video files ({', '.join(sorted(VIDEO_SUFFIXES))})"
                )
            videos.extend(sorted(found, key=lambda p: natural_key(p.name)))
        elif path.suffix.lower() in VIDEO_SUFFIXES:
            videos.append(path)
        else:
            raise DataError(f"{path}: not a video file (expected one of {', '.join(sorted(VIDEO_SUFFIXES))})")
    return videos


def sequence_names(stems: list[str]) -> list[str]:
    """Safe, unique sequence names (``a b`` -> ``a_b``; repeats get ``-2``, ``-3``)."""
    names: list[str] = []
    seen: dict[str, int] = {}
    for stem in stems:
        base = re.sub(r"[^\w.-]+", "_", stem).strip("._") or "sequence"
        seen[base] = seen.get(base, 0) + 1
        names.append(base if seen[base] == 1 else f"{base}-{seen[base]}")
    return names


def keep_indices_for_fps(source_fps: float, target_fps: float | None) -> Iterator[bool]:
    """For each source frame, whether it is kept to resample ``source_fps`` down to ``target_fps``."""
    if target_fps is None or source_fps <= 0 or target_fps >= source_fps:
        while True:
            yield True
    step = source_fps / target_fps
    next_kept = 0.0
    index = 0
    while True:
        keep = index + 1e-6 >= next_kept
        if keep:
            next_kept += step
        index += 1
        yield keep


def video_frames(source: dict[str, Any]) -> Iterator[tuple[np.ndarray, str]]:
    """Decode, resample and resize one video; raises DataError when it turns out to be truncated."""
    path = Path(source["path"])
    with VideoReader(path) as reader:
        keep = keep_indices_for_fps(reader.fps, source["fps"])
        for index, frame in enumerate(reader):
            if next(keep):
                yield resize_frame(frame, source["size"]), f"{path} (frame {index})"
        if reader.truncated:
            raise DataError(
                f"{path}: truncated video (decoded {reader.frames_read} of {reader.frame_count} frames); "
                "download or re-encode it again"
            )


def prepare_videos(
    inputs: list[Path],
    out: Path,
    fps: float | None = None,
    size: tuple[int, int] | None = None,
    split: str = "train",
    workers: int = 1,
    shard: Shard | None = None,
) -> PrepareResult:
    """Turn videos into sequences of the frame tree under ``out`` (or task ``shard``'s share of them)."""
    if fps is not None and not fps > 0:  # written so that NaN is refused too
        raise UsageError(f"--fps must be positive, got {fps}")
    videos = find_videos(inputs)
    weights = []
    for video in videos:  # open each once up front: unreadable files fail before anything is written
        with VideoReader(video) as reader:
            # Decoding time goes with frames x pixels; the container's frame count may be 0 (unknown).
            weights.append(max(reader.frame_count, 1) * max(reader.size[0] * reader.size[1], 1))
    jobs = [
        SequenceJob(split, name, {"path": str(video), "fps": fps, "size": size})
        for video, name in zip(videos, sequence_names([v.stem for v in videos]))
    ]
    options = {"size": size, "fps": fps}
    plan = WritePlan(
        source="videos",
        jobs=jobs,
        produce=video_frames,
        split_source=SplitSource("videos", options, {"inputs": [str(v) for v in videos]}),
        weights=weights,
        description="videos",
    )
    return write_plan(plan, out, workers, shard)
