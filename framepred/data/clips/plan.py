"""Where the clips come from, decided up front from the seed alone.

The original draws, for every clip, a video uniformly and then a start frame uniformly. Drawing
each video's total from a multinomial and then each video's per-start counts from a multinomial
gives exactly the same joint distribution of counts, in memory proportional to the number of
frames instead of the number of clips. The clips are then laid out video by video, start by start,
and cut in work units (a few dozen start frames of one video) whose frames fit a memory budget.
Everything a clip's pixels depend on (its start, its random stream) follows from the seed and its
position in this plan, never from the number of workers, so any worker count gives the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Spawn keys of the two kinds of random stream derived from the seed.
PLAN_STREAM = 0
START_STREAM = 1

# Bytes held per pixel of each frame in a unit: the uint8 RGB frame and the int32 pair-energy map.
_BYTES_PER_PIXEL = 3 + 4
_MIN_STARTS_PER_UNIT = 8


@dataclass(frozen=True)
class Unit:
    """A run of start frames of one video whose clips are cut together (one decode of their frames)."""

    video: int
    first_start: int
    counts: np.ndarray  # clips per start frame, for starts first_start, first_start + 1, ...
    offset: int  # index of the unit's first clip in the output

    @property
    def total(self) -> int:
        return int(self.counts.sum())


def plan_counts(frame_counts: list[int], count: int, frames: int, seed: int) -> list[np.ndarray]:
    """For each video, how many of the ``count`` clips start at each of its start frames."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(PLAN_STREAM,)))
    videos = len(frame_counts)
    per_video = rng.multinomial(count, np.full(videos, 1.0 / videos))
    plan = []
    for length, total in zip(frame_counts, per_video):
        starts = length - frames + 1
        plan.append(rng.multinomial(total, np.full(starts, 1.0 / starts)))
    return plan


def starts_per_unit(height: int, width: int, frames: int, memory_bytes: int) -> int:
    """How many start frames one unit may cover so its frames and energy maps fit ``memory_bytes``."""
    held = memory_bytes // (_BYTES_PER_PIXEL * height * width) - (frames - 1)
    return max(_MIN_STARTS_PER_UNIT, int(held))


def make_units(plan: list[np.ndarray], unit_starts: list[int]) -> list[Unit]:
    """Cut each video's starts into units of at most ``unit_starts[video]`` starts; empty units dropped."""
    units = []
    offset = 0
    for video, (counts, step) in enumerate(zip(plan, unit_starts)):
        for first in range(0, len(counts), step):
            chunk = counts[first : first + step]
            used = np.flatnonzero(chunk)
            if used.size == 0:
                continue
            # Trim empty starts at both ends so the unit decodes no frame it does not need.
            begin, end = int(used[0]), int(used[-1]) + 1
            unit = Unit(video, first + begin, chunk[begin:end].copy(), offset)
            units.append(unit)
            offset += unit.total
    return units


def start_rng(seed: int, video: int, start: int) -> np.random.Generator:
    """The random stream of the clips of one (video, start frame): crop draws and take-first draws."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(START_STREAM, video, start)))
