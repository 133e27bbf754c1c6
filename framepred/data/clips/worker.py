"""One work unit: decode a run of frames of one video once, cut all its clips, write them into shards.

Runs in a worker process (or in the caller's process with one worker). Clips go straight into the
shard files through memory maps at positions fixed by the plan, so workers never send pixels back
and the caller holds no clips at all.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from framepred.data.clips.motion import choose_trials, crop_sums, cut_crops, integral_image, pair_energy
from framepred.data.clips.plan import Unit, start_rng
from framepred.errors import DataError
from framepred.io.images import read_image

# Clips of one start frame are drawn and scored this many at a time (bounds the trial arrays).
BATCH = 1024

# Per-shard statistics: clips, crop trials, kept crops above the threshold, take-first clips,
# and the sum of the kept crops' motion in uint8 units (exact integers, so sums are order-free).
STAT_FIELDS = ("clips", "tries", "passed", "taken_first", "motion_sum")


@dataclass(frozen=True)
class ClipSettings:
    """The options every unit needs to cut its clips."""

    frames: int
    size: int
    threshold: float
    trials: int
    take_first: float
    seed: int
    shard_size: int


@dataclass(frozen=True)
class UnitTask:
    unit: Unit
    frame_paths: tuple[str, ...]  # the video's frames first_start ... last start + frames - 1
    height: int
    width: int
    settings: ClipSettings
    shard_files: dict[int, str]  # shards still to write (index -> temporary file); the rest are kept


def _wanted_starts(task: UnitTask) -> np.ndarray:
    """Which start frames of the unit have a clip in a shard still to write (others are not cut).

    A start's clips have their own random stream, so leaving a start out changes no other clip.
    """
    size = task.settings.shard_size
    ends = task.unit.offset + np.cumsum(task.unit.counts)
    begins = ends - task.unit.counts
    wanted = np.zeros(len(task.unit.counts), dtype=bool)
    for shard in task.shard_files:
        wanted |= (begins < (shard + 1) * size) & (ends > shard * size)
    return wanted & (task.unit.counts > 0)


def _read_window(task: UnitTask, starts: np.ndarray) -> np.ndarray:
    """Decode the frames the clips of ``starts`` use (frames no such clip touches stay zero, never read)."""
    frames = task.settings.frames
    needed = np.zeros(len(task.frame_paths), dtype=bool)
    for offset in np.flatnonzero(starts):
        needed[offset : offset + frames] = True
    window = np.zeros((len(task.frame_paths), task.height, task.width, 3), dtype=np.uint8)
    for index in np.flatnonzero(needed):
        path = task.frame_paths[index]
        image = read_image(path)
        if image.shape != window.shape[1:]:
            raise DataError(
                f"{path}: frame is {image.shape[1]}x{image.shape[0]} but this sequence's first frame is "
                f"{task.width}x{task.height}; give every frame of a sequence one size"
            )
        window[index] = image
    return window


def _energies(window: np.ndarray, starts: np.ndarray, frames: int) -> np.ndarray:
    """Pair-energy maps of consecutive frames (only the pairs the clips of ``starts`` use are computed)."""
    needed = np.zeros(len(window) - 1, dtype=bool)
    for offset in np.flatnonzero(starts):
        needed[offset : offset + frames - 1] = True
    energies = np.zeros((len(window) - 1, *window.shape[1:3]), dtype=np.int32)
    for pair in np.flatnonzero(needed):
        energies[pair] = pair_energy(window[pair], window[pair + 1])
    return energies


class _ShardWriter:
    """Writes rows at global clip positions into the shard files still to be written; keeps statistics.

    Shard files exist at full size before any unit runs (header first, data last), so a row's place
    in its file is known and workers write disjoint byte ranges with plain positioned writes.
    """

    def __init__(self, shard_files: dict[int, str], shard_size: int, clip_bytes: int) -> None:
        self.shard_files = shard_files
        self.shard_size = shard_size
        self.clip_bytes = clip_bytes
        self.open_files: dict[int, tuple[int, int]] = {}  # shard -> (descriptor, byte offset of row 0)
        self.stats: dict[int, list[int]] = {}

    def _file(self, shard: int) -> tuple[int, int]:
        if shard not in self.open_files:
            descriptor = os.open(self.shard_files[shard], os.O_WRONLY)
            file_size = os.fstat(descriptor).st_size  # header, then the rows up to the end
            data_start = file_size - self._rows_in(shard) * self.clip_bytes
            self.open_files[shard] = (descriptor, data_start)
        return self.open_files[shard]

    def _rows_in(self, shard: int) -> int:
        return np.load(self.shard_files[shard], mmap_mode="r").shape[0]

    def wants(self, position: int, n: int) -> bool:
        """Whether any of the clips ``position .. position + n - 1`` goes to a shard still to write."""
        first, last = position // self.shard_size, (position + n - 1) // self.shard_size
        return any(shard in self.shard_files for shard in range(first, last + 1))

    def write(self, position: int, clips: np.ndarray, per_clip: list[np.ndarray]) -> None:
        end = position + len(clips)
        for shard in range(position // self.shard_size, (end - 1) // self.shard_size + 1):
            low = max(position, shard * self.shard_size)
            high = min(end, (shard + 1) * self.shard_size)
            rows = slice(low - position, high - position)
            totals = self.stats.setdefault(shard, [0] * len(STAT_FIELDS))
            totals[0] += high - low
            for field, values in enumerate(per_clip, start=1):
                totals[field] += int(values[rows].sum())
            if shard in self.shard_files:
                descriptor, data_start = self._file(shard)
                at = data_start + (low - shard * self.shard_size) * self.clip_bytes
                payload = memoryview(np.ascontiguousarray(clips[rows])).cast("B")
                try:
                    while payload:  # pwrite may write less than asked
                        written = os.pwrite(descriptor, payload, at)
                        payload, at = payload[written:], at + written
                except OSError as error:
                    path = self.shard_files[shard]
                    raise DataError(
                        f"{path}: cannot write ({error.strerror}); free disk space or change -o"
                    ) from error

    def close(self) -> None:
        for descriptor, _ in self.open_files.values():
            os.close(descriptor)
        self.open_files.clear()


def run_unit(task: UnitTask) -> dict[int, list[int]]:
    """Cut and write every clip of one unit that lands in a shard still to write.

    Returns statistics per shard touched; they are complete for the shards in ``task.shard_files``
    (the caller ignores the others, whose clips may have been skipped).
    """
    unit, settings = task.unit, task.settings
    frames, size, trials = settings.frames, settings.size, settings.trials
    starts = _wanted_starts(task)
    window = _read_window(task, starts)
    energies = _energies(window, starts, frames)
    writer = _ShardWriter(task.shard_files, settings.shard_size, frames * size * size * 3)
    firsts = unit.offset + np.cumsum(unit.counts) - unit.counts
    try:
        for offset in np.flatnonzero(starts):
            table = integral_image(energies[offset : offset + frames - 1].sum(axis=0, dtype=np.int32))
            rng = start_rng(settings.seed, unit.video, unit.first_start + int(offset))
            position, remaining = int(firsts[offset]), int(unit.counts[offset])
            while remaining:
                n = min(remaining, BATCH)
                take_first = rng.random(n) < settings.take_first
                xs = rng.integers(0, task.width - size + 1, size=(n, trials))
                ys = rng.integers(0, task.height - size + 1, size=(n, trials))
                if writer.wants(position, n):  # else the draws above only keep the stream in step
                    scores = crop_sums(table, ys, xs, size)
                    chosen, tries, passed = choose_trials(scores, take_first, settings.threshold)
                    rows = np.arange(n)
                    kept_ys, kept_xs = ys[rows, chosen], xs[rows, chosen]
                    motion = scores[rows, chosen].astype(np.int64)  # exact integers held in float64
                    clips = cut_crops(window[offset : offset + frames], kept_ys, kept_xs, size)
                    writer.write(position, clips, [tries, passed, take_first, motion])
                position += n
                remaining -= n
    finally:
        writer.close()
    return writer.stats
