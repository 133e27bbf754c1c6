"""Task K of N: which share of a data job one task of a scheduler's job array does.

Every task of a SLURM array or a Kubernetes indexed Job runs the same command with its own index.
The share is a pure function of the inputs (the work items in their stable order and how much work
each is) and of (K, N), so all tasks agree on it without talking to each other, and the shares
cover every item exactly once.
"""

from __future__ import annotations

import heapq
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from framepred.errors import UsageError

SHARD_FORMAT = "K/N (task K of N, counting from 0), auto or auto/N"


@dataclass(frozen=True)
class Shard:
    """Task ``index`` of ``count`` (0 <= index < count)."""

    index: int
    count: int

    def __post_init__(self) -> None:
        if self.count < 1 or not 0 <= self.index < self.count:
            raise UsageError(
                f"--shard {self.index}/{self.count}: need 0 <= K < N (tasks count from 0: "
                "the tasks of 8 are 0/8 ... 7/8)"
            )

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    @property
    def label(self) -> str:
        """For file names: ``0003-of-0008``."""
        return f"{self.index:04d}-of-{self.count:04d}"


def parse_shard(text: str | None, environ: Mapping[str, str] | None = None) -> Shard | None:
    """``"K/N"``, ``"auto"`` or ``"auto/N"`` -> a Shard; None (or empty) -> None (do everything).

    ``auto`` reads the task's index and count from a SLURM array (``SLURM_ARRAY_TASK_ID`` counted
    from ``SLURM_ARRAY_TASK_MIN`` in steps of ``SLURM_ARRAY_TASK_STEP``, and ``SLURM_ARRAY_TASK_COUNT``).
    ``auto/N`` takes the index as the scheduler gives it (``SLURM_ARRAY_TASK_ID`` of an array
    ``0-(N-1)``, or a Kubernetes indexed Job's ``JOB_COMPLETION_INDEX``, which carries no count).
    """
    if text is None or not text.strip():
        return None
    env = os.environ if environ is None else environ
    text = text.strip()
    match = re.fullmatch(r"(\d+|auto)(?:/(\d+))?", text)
    if not match or (match[1] != "auto" and match[2] is None):
        raise UsageError(f"--shard {text}: expected {SHARD_FORMAT}, e.g. --shard 0/8")
    count = int(match[2]) if match[2] is not None else None
    if match[1] != "auto":
        assert count is not None
        return Shard(int(match[1]), count)
    return _from_environment(env, count, text)


def _integer(env: Mapping[str, str], name: str) -> int | None:
    value = env.get(name, "").strip()
    if not value:
        return None
    if not re.fullmatch(r"-?\d+", value):
        raise UsageError(f"--shard auto: {name}={value!r} is not an integer")
    return int(value)


def _from_environment(env: Mapping[str, str], count: int | None, text: str) -> Shard:
    slurm_id = _integer(env, "SLURM_ARRAY_TASK_ID")
    if slurm_id is not None:
        if count is not None:
            # auto/N: the array index is the task index (--array=0-(N-1)), so a part of the array
            # can be submitted again later (--array=3,7) and keep its indices.
            return Shard(slurm_id, count)
        first = _integer(env, "SLURM_ARRAY_TASK_MIN") or 0
        step = _integer(env, "SLURM_ARRAY_TASK_STEP") or 1
        slurm_count = _integer(env, "SLURM_ARRAY_TASK_COUNT")
        index, rest = divmod(slurm_id - first, step)
        if rest or index < 0:
            raise UsageError(
                f"--shard {text}: SLURM_ARRAY_TASK_ID={slurm_id} is not on the array's range (min {first}, "
                f"step {step}); submit a range such as --array=0-7, or write --shard auto/N"
            )
        if slurm_count is None:
            raise UsageError(f"--shard {text}: SLURM_ARRAY_TASK_COUNT is not set; write --shard auto/N")
        return Shard(index, slurm_count)
    job_index = _integer(env, "JOB_COMPLETION_INDEX")
    if job_index is not None:
        if count is None:
            raise UsageError(
                f"--shard {text}: JOB_COMPLETION_INDEX={job_index} gives the index but not the number of "
                "tasks; write --shard auto/N with N the Job's completions"
            )
        return Shard(job_index, count)
    raise UsageError(
        f"--shard {text}: neither SLURM_ARRAY_TASK_ID nor JOB_COMPLETION_INDEX is set (not inside a job "
        "array?); give --shard K/N"
    )


def assign(weights: Sequence[float], count: int) -> list[int]:
    """The task (0..count-1) of each item, balancing the summed weights; deterministic.

    Largest items first, each to the task with the least work so far (ties: lower task index; items
    of equal weight keep their order), so equal weights go round-robin: item i to task i % count.
    """
    if count < 1:
        raise ValueError("count must be at least 1")
    order = sorted(range(len(weights)), key=lambda i: (-weights[i], i))
    loads = [(0.0, task) for task in range(count)]
    owner = [0] * len(weights)
    for item in order:
        load, task = heapq.heappop(loads)
        owner[item] = task
        heapq.heappush(loads, (load + weights[item], task))
    return owner


def select(shard: Shard | None, weights: Sequence[float]) -> list[bool]:
    """For each item, whether this task does it (every item when ``shard`` is None)."""
    if shard is None:
        return [True] * len(weights)
    return [task == shard.index for task in assign(weights, shard.count)]


def contiguous_range(shard: Shard | None, items: int) -> range:
    """Items ``[K*items/N, (K+1)*items/N)``: a contiguous share, for output files that must stay in order."""
    if shard is None:
        return range(items)
    return range(shard.index * items // shard.count, (shard.index + 1) * items // shard.count)
