"""`extract_clips`: motion-filtered training clips from frame sequences into uint8 shards.

Output folder::

    OUT/shard-00000.npy ...   uint8 arrays (clips, frames, size, size, 3), RGB, ``shard_size`` clips each
    OUT/manifest.json         count, frames, size, options, source, statistics; written last

While a run is under way OUT also holds ``.clip-run.json`` (what is being made, and the statistics
of finished shards) and hidden ``.shard-NNNNN.partial.npy`` files. A finished shard is renamed into
place, so an interrupted run keeps its finished shards and a rerun with the same inputs and options
makes only the rest.

Task K of N of a job array (``shard``) makes the contiguous K-th share of the shard files and keeps
``.clip-run-KKKK-of-NNNN.json`` instead of writing the manifest; :func:`merge_clips` writes it once
every task has finished. The tasks cut only the clips of their own files (a work unit that straddles
two tasks' files is decoded by both, each cutting its own clips), so the split costs almost nothing.
"""

from __future__ import annotations

import hashlib
import json
import math
import multiprocessing
import os
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from framepred.data.clips.motion import SQUARE_SCALE
from framepred.data.clips.plan import Unit, make_units, plan_counts, starts_per_unit
from framepred.data.clips.worker import STAT_FIELDS, ClipSettings, UnitTask, run_unit
from framepred.data.sharding import Shard, contiguous_range
from framepred.data.tree import Sequence, discover_sequences
from framepred.errors import DataError, UsageError
from framepred.io.atomic import write_text_atomic
from framepred.io.images import read_image

FORMAT_NAME = "framepred-clips"
MANIFEST_NAME = "manifest.json"
STATE_NAME = ".clip-run.json"

Progress = Callable[..., Iterable[Any]]  # like framepred.cli.console.progress(iterable, total=, description=)


def shard_name(index: int) -> str:
    return f"shard-{index:05d}.npy"


def _partial_name(index: int) -> str:
    return f".shard-{index:05d}.partial.npy"


@dataclass(frozen=True)
class _Video:
    sequence: Sequence
    width: int
    height: int


def _frame_size(path: Path) -> tuple[int, int]:
    """(width, height) of an image from its header (as decoded, i.e. after EXIF rotation)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            width, height = image.size
            if image.getexif().get(0x0112) in (5, 6, 7, 8):  # rotated by 90 degrees when decoded
                width, height = height, width
            return width, height
    except (UnidentifiedImageError, OSError):
        image = read_image(path)  # formats Pillow cannot parse: decode once instead
        return image.shape[1], image.shape[0]


def _find_videos(data: Path, frames: int, size: int) -> tuple[list[_Video], dict[str, int]]:
    """Sequences long and large enough for a clip, and counts of those skipped."""
    videos, short, small = [], 0, 0
    largest = (0, 0)
    for sequence in discover_sequences(data):
        if len(sequence) < frames:
            short += 1
            continue
        width, height = _frame_size(sequence.frames[0])
        largest = max(largest, (min(width, height), width * height))
        if width < size or height < size:
            small += 1
            continue
        videos.append(_Video(sequence, width, height))
    if not videos:
        if small:
            raise UsageError(
                f"--size {size} is larger than the frames of every long-enough sequence under {data} "
                f"(shortest side at most {largest[0]} px); pick a smaller --size"
            )
        raise DataError(
            f"{data}: every sequence has fewer than {frames} frames; lower --frames or add frames"
        )
    return videos, {"short": short, "small": small}


def _check_free_space(out: Path, count: int, clip_bytes: int) -> None:
    """Refuse a count the disk cannot hold before any file (or shard list) is made: -n 10**12 is a typo."""
    existing = next(p for p in [out, *out.absolute().parents] if p.is_dir())
    free = shutil.disk_usage(existing).free
    if out.is_dir():  # shards of an earlier run are kept or made again in place: their space is ours
        free += sum(p.stat().st_blocks * 512 for p in out.glob("*shard-*.npy"))
    if count * clip_bytes > free:
        raise UsageError(
            f"{out}: {count} clips need {count * clip_bytes / 1e9:.0f} GB, but only {free / 1e9:.0f} GB "
            "are free there; lower -n or free disk space"
        )


def _fingerprint(videos: list[_Video], data: Path) -> str:
    digest = hashlib.sha256()
    for video in videos:
        name = os.path.relpath(video.sequence.path, data)
        digest.update(f"{name}\0{len(video.sequence)}\0{video.width}x{video.height}\n".encode())
    return digest.hexdigest()[:16]


def _shard_ok(path: Path, shape: tuple[int, ...]) -> bool:
    """Whether a finished shard on disk has the expected shape, type and full length."""
    try:
        array = np.load(path, mmap_mode="r")
    except (OSError, ValueError):
        return False
    return array.shape == shape and array.dtype == np.uint8


def _read_json(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DataError(f"{path}: unreadable ({error}); delete the output folder and run again") from error
    if not isinstance(value, dict):
        raise DataError(f"{path}: not a JSON object; delete the output folder and run again")
    return value


def _check_options(count: int, frames: int, size: int, trials: int, take_first: float, seed: int,
                   workers: int, shard_size: int) -> None:  # fmt: skip
    checks = [
        (count >= 1, f"-n must be a positive number of clips, got {count}"),
        (frames >= 2, f"--frames must be at least 2 (motion is measured between frames), got {frames}"),
        (size >= 1, f"--size must be a positive crop size in pixels, got {size}"),
        (trials >= 1, f"--trials must be at least 1, got {trials}"),
        (0.0 <= take_first <= 1.0, f"--take-first is a probability in [0, 1], got {take_first}"),
        (seed >= 0, f"--seed must be a non-negative integer, got {seed}"),
        (workers >= 1, f"--workers must be at least 1, got {workers}"),
        (shard_size >= 1, f"--shard-size must be at least 1, got {shard_size}"),
    ]
    for ok, message in checks:
        if not ok:
            raise UsageError(message)


def _summarise(stats: list[int]) -> dict[str, float]:
    clips = max(stats[0], 1)
    return {
        "mean_tries": stats[1] / clips,
        "passed_fraction": stats[2] / clips,
        "take_first_fraction": stats[3] / clips,
        "mean_motion": stats[4] / SQUARE_SCALE / clips,
    }


def _results(tasks: list[UnitTask], workers: int) -> Iterator[dict[int, list[int]]]:
    """Run the units, in this process or in a pool; yields each unit's per-shard statistics."""
    if workers == 1 or len(tasks) == 1:
        for task in tasks:
            yield run_unit(task)
        return
    # spawn, not fork: the caller may hold threads (torch, a progress bar) that fork would copy mid-state.
    context = multiprocessing.get_context("spawn")
    with context.Pool(min(workers, len(tasks))) as pool:
        yield from pool.imap_unordered(run_unit, tasks, chunksize=1)


def extract_clips(
    data: str | os.PathLike,
    out: str | os.PathLike,
    count: int,
    *,
    frames: int = 5,
    size: int = 32,
    threshold: float = 100.0,
    trials: int = 100,
    take_first: float = 0.05,
    seed: int = 0,
    workers: int = 1,
    shard_size: int = 4096,
    memory_mb: int = 256,
    shard: Shard | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Cut ``count`` motion-filtered clips from the sequences under ``data`` into shards in ``out``.

    ``memory_mb`` bounds the decoded frames each worker holds; it changes speed, never the output.
    ``shard`` (task K of N) makes only that task's contiguous share of the shard files, and no
    manifest: :func:`merge_clips` writes it once every task has finished.
    Returns the manifest plus ``out``, ``seconds``, ``made`` (clips cut in this call) and
    ``resumed_shards``; for a task, ``task``, its ``shards`` and ``merged: False`` instead of the manifest.
    """
    started = time.perf_counter()
    _check_options(count, frames, size, trials, take_first, seed, workers, shard_size)
    if math.isnan(threshold):  # every motion test would fail without a word
        raise UsageError("--threshold must be a number, got nan")
    data, out = Path(data), Path(out)
    videos, skipped = _find_videos(data, frames, size)
    settings = ClipSettings(frames, size, float(threshold), trials, float(take_first), seed, shard_size)
    key = {"format": FORMAT_NAME, "count": count, **asdict(settings), "source": _fingerprint(videos, data)}
    run_id = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
    shard_counts = [min(shard_size, count - start) for start in range(0, count, shard_size)]
    shapes = [(n, frames, size, size, 3) for n in shard_counts]
    owned = contiguous_range(shard, len(shapes))
    _check_free_space(out, sum(shard_counts[k] for k in owned), frames * size * size * 3)

    if out.exists() and not out.is_dir():
        raise DataError(f"{out}: is a file; give -o a new or empty folder")
    manifest_path = out / MANIFEST_NAME
    if manifest_path.exists():
        manifest = _read_json(manifest_path)
        if manifest.get("run_id") != run_id:
            raise UsageError(_other_run(out))
        for k, shape in enumerate(shapes):
            if not _shard_ok(out / shard_name(k), shape):
                raise DataError(f"{out / shard_name(k)}: missing or damaged; delete {out} and run again")
        return {**manifest, "out": str(out), "seconds": time.perf_counter() - started, "made": 0,
                "resumed_shards": len(shapes)}  # fmt: skip

    # What the manifest will say, but the statistics: every task computes the same, merge checks that.
    base = {
        "format": FORMAT_NAME,
        "count": count,
        "frames": frames,
        "size": size,
        "layout": "uint8 RGB, each shard (clips, frames, size, size, 3); clips grouped by sequence",
        "shards": [{"file": shard_name(k), "count": n} for k, n in enumerate(shard_counts)],
        "options": {
            "threshold": threshold,
            "trials": trials,
            "take_first": take_first,
            "seed": seed,
            "shard_size": shard_size,
        },  # fmt: skip
        "source": {
            "path": str(data.resolve()),
            "sequences": len(videos),
            "frames": sum(len(v.sequence) for v in videos),
            "skipped_short": skipped["short"],
            "skipped_small": skipped["small"],
        },
    }
    state_path = out / _state_name(shard)
    state = {"run_id": run_id, "key": key, "task": [shard.index, shard.count] if shard else None,
             "base": base, "shard_stats": {}, "finished": False}  # fmt: skip
    # Shards finished by an earlier run of the same clips (interrupted, or other tasks) are kept.
    known = _known_stats(out, run_id)
    state["shard_stats"] = {str(k): known[str(k)] for k in owned if str(k) in known}
    try:
        out.mkdir(parents=True, exist_ok=True)
        write_text_atomic(state_path, json.dumps(state))
    except OSError as error:
        raise DataError(f"{out}: cannot write there ({error.strerror}); choose a writable -o") from error

    # Finished shards stay; everything else (including partial files of a killed run) is made again.
    shard_stats: dict[str, list[int]] = state["shard_stats"]
    done = {k for k in owned if str(k) in shard_stats and _shard_ok(out / shard_name(k), shapes[k])}
    for k in owned:
        (out / _partial_name(k)).unlink(missing_ok=True)
    todo = [k for k in owned if k not in done]
    for k in todo:  # full-size (sparse) files, so workers can write any row at its final place
        try:
            np.lib.format.open_memmap(out / _partial_name(k), mode="w+", dtype=np.uint8, shape=shapes[k])
        except OSError as error:
            raise DataError(
                f"{out}: cannot create shard files ({error.strerror}); choose another -o"
            ) from error

    tasks, pending = _unit_tasks(videos, out, count, settings, memory_mb, todo)
    totals: dict[int, list[int]] = {k: [0] * len(STAT_FIELDS) for k in todo}
    results = _results(tasks, workers)
    if progress is not None:
        results = progress(results, total=len(tasks), description="clip units")
    for unit_stats in results:
        for k, values in unit_stats.items():
            if k not in pending:
                continue
            totals[k] = [a + b for a, b in zip(totals[k], values)]
            pending[k] -= 1
            if pending[k] == 0:
                # Statistics first, then the rename: a shard on disk always has its statistics recorded.
                shard_stats[str(k)] = totals[k]
                write_text_atomic(state_path, json.dumps(state))
                os.replace(out / _partial_name(k), out / shard_name(k))

    made = sum(shard_counts[k] for k in todo)
    timing = {
        "out": str(out),
        "seconds": time.perf_counter() - started,
        "made": made,
        "resumed_shards": len(done),
    }
    if shard is not None:
        state["finished"] = True
        write_text_atomic(state_path, json.dumps(state))
        files = [shard_name(k) for k in owned]
        return {"task": str(shard), "count": count, "shards": files, "merged": False, **timing}
    manifest = _write_manifest(out, base, shard_stats, run_id)
    return {**manifest, **timing}


def merge_clips(out: str | os.PathLike) -> dict[str, Any]:
    """Check that every task of a sharded ``clip`` run finished, then write ``manifest.json``.

    The manifest is the one an unsharded run writes (the statistics are exact integer sums per
    shard file), so the folder is byte-identical to one run's. Returns the manifest plus ``out``
    and ``tasks``.
    """
    out = Path(out)
    if not out.is_dir():
        raise DataError(f"{out}: no such folder; give the -o the `clip --shard` tasks wrote to")
    states = [_read_json(path) for path in sorted(out.glob(".clip-run-*.json"))]
    if not states:
        if (out / MANIFEST_NAME).is_file():
            return {**_read_json(out / MANIFEST_NAME), "out": str(out), "tasks": 0}
        raise DataError(
            f"{out}: has no clip tasks to merge; run `framepred clip ... --shard K/N` into it first"
        )
    if len({state.get("run_id") for state in states}) > 1:
        raise DataError(
            f"{out}: holds tasks of clip runs with other inputs or options; run every task with the same "
            "command, or delete the folder and start again"
        )
    counts = {state["task"][1] for state in states}
    if len(counts) > 1:
        raise DataError(f"{out}: the tasks were run with different N ({sorted(counts)}); use one --shard K/N")
    total = counts.pop()
    finished = {state["task"][0] for state in states if state.get("finished")}
    missing = [k for k in range(total) if k not in finished]
    if missing:
        listed = ", ".join(f"{k}/{total}" for k in missing[:8]) + (" ..." if len(missing) > 8 else "")
        raise DataError(
            f"{out}: {len(missing)} of {total} clip tasks have not finished (--shard {listed}); "
            "run them again (they resume), then merge"
        )
    base = states[0]["base"]
    if any(state["base"] != base for state in states):
        raise DataError(f"{out}: the tasks describe different outputs; run them again with one command")
    stats: dict[str, list[int]] = {}
    for state in states:
        stats.update(state["shard_stats"])
    for k, entry in enumerate(base["shards"]):
        shape = (entry["count"], base["frames"], base["size"], base["size"], 3)
        if str(k) not in stats or not _shard_ok(out / entry["file"], shape):
            owner = next(
                i for i in range(total) if k in contiguous_range(Shard(i, total), len(base["shards"]))
            )
            where = out / entry["file"]
            raise DataError(
                f"{where}: missing or damaged; run task --shard {owner}/{total} again, then merge"
            )
    manifest = _write_manifest(out, base, stats, states[0]["run_id"])
    return {**manifest, "out": str(out), "tasks": total}


def _state_name(shard: Shard | None) -> str:
    return STATE_NAME if shard is None else f".clip-run-{shard.label}.json"


def _other_run(out: Path) -> str:
    return f"{out}: holds clips made from other inputs or options; choose another -o or delete it"


def _known_stats(out: Path, run_id: str) -> dict[str, list[int]]:
    """Statistics of the shards finished by earlier runs or other tasks of the same clips.

    Refuses an ``out`` that holds clips of another run, or files that are not framepred's.
    """
    known: dict[str, list[int]] = {}
    states = sorted(out.glob(".clip-run*.json")) if out.is_dir() else []
    for path in states:
        state = _read_json(path)
        if state.get("run_id") == run_id:
            known.update(state.get("shard_stats", {}))
        elif state.get("shard_stats"):
            raise UsageError(_other_run(out))
        else:  # that run finished no shard (it failed early): nothing to keep, start this one afresh
            path.unlink(missing_ok=True)
    if not states and out.exists() and any(not p.name.startswith(".") for p in out.iterdir()):
        raise DataError(f"{out}: is not empty and holds no framepred clips; choose an empty or new -o")
    return known


def _unit_tasks(
    videos: list[_Video], out: Path, count: int, settings: ClipSettings, memory_mb: int, todo: list[int]
) -> tuple[list[UnitTask], dict[int, int]]:
    """The work units with a clip in a shard of ``todo``, and how many units touch each such shard."""
    frames, shard_size = settings.frames, settings.shard_size
    plan = plan_counts([len(v.sequence) for v in videos], count, frames, settings.seed)
    unit_starts = [starts_per_unit(v.height, v.width, frames, memory_mb << 20) for v in videos]
    tasks, pending = [], {k: 0 for k in todo}
    for unit in make_units(plan, unit_starts):
        touched = [k for k in _shards_of(unit, shard_size) if k in pending]
        if not touched:
            continue
        for k in touched:
            pending[k] += 1
        video = videos[unit.video]
        paths = video.sequence.frames[unit.first_start : unit.first_start + len(unit.counts) + frames - 1]
        files = {k: str(out / _partial_name(k)) for k in touched}
        tasks.append(UnitTask(unit, tuple(str(p) for p in paths), video.height, video.width, settings, files))
    return tasks, pending


def _write_manifest(
    out: Path, base: dict[str, Any], stats: dict[str, list[int]], run_id: str
) -> dict[str, Any]:
    """Write ``manifest.json`` last, then drop the run state files: the folder is complete."""
    shards = range(len(base["shards"]))
    overall = [sum(stats[str(k)][i] for k in shards) for i in range(len(STAT_FIELDS))]
    manifest = {**base, "stats": _summarise(overall), "run_id": run_id, "framepred_version": _version()}
    write_text_atomic(out / MANIFEST_NAME, json.dumps(manifest, indent=2) + "\n")
    for path in out.glob(".clip-run*.json"):
        path.unlink()
    return manifest


def _shards_of(unit: Unit, shard_size: int) -> range:
    return range(unit.offset // shard_size, (unit.offset + unit.total - 1) // shard_size + 1)


def _version() -> str:
    from framepred import __version__

    return __version__
