"""Run one job per output sequence, in parallel, skipping sequences that are already complete.

Each job writes its sequence through ``SequenceWriter`` (hidden folder, renamed when whole), so a
run killed at any moment leaves only complete sequences plus hidden leftovers that the next run
deletes; running again finishes the rest. Jobs are independent, so the output does not depend on
the number of workers.
"""

from __future__ import annotations

import multiprocessing
import shutil
import time
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_EXCEPTION, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from framepred.data.manifest import STATE_NAME
from framepred.data.tree import SequenceWriter, ensure_output_folder, remove_stale_partials

# A producer turns a job's ``source`` into frames: (uint8 RGB array, where it came from) pairs.
Producer = Callable[[Any], Iterable[tuple[np.ndarray, str]]]


@dataclass(frozen=True)
class SequenceJob:
    split: str
    name: str
    source: Any


@dataclass
class JobSummary:
    written: int = 0
    skipped: int = 0
    frames: int = 0
    seconds: float = 0.0
    sequences: list[str] = field(default_factory=list)

    @property
    def frames_per_second(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0


def _run_one(out: Path, job: SequenceJob, produce: Producer, suffix: str, threads: int = 1) -> int:
    with SequenceWriter(out, job.split, job.name, suffix=suffix, threads=threads) as writer:
        for rgb, source in produce(job.source):
            writer.write(rgb, source)
    return writer.count


def run_sequence_jobs(
    jobs: list[SequenceJob],
    out: str | Path,
    produce: Producer,
    workers: int = 1,
    description: str = "sequences",
    suffix: str = ".png",
) -> JobSummary:
    """Write every job's sequence under ``out``; complete ones already there are skipped.

    Callers check first that ``out`` may take these sequences (framepred.data.manifest.check_splits).
    """
    return _run_jobs(jobs, ensure_output_folder(out), produce, workers, description, suffix)


def _run_jobs(
    jobs: list[SequenceJob], out: Path, produce: Producer, workers: int, description: str, suffix: str
) -> JobSummary:
    from framepred.cli.console import progress  # console only formats; no heavy imports

    remove_stale_partials(out, only={(job.split, job.name) for job in jobs})
    summary = JobSummary()
    todo = []
    for job in jobs:
        if (out / job.split / job.name).is_dir():
            summary.skipped += 1
        else:
            todo.append(job)
    start = time.monotonic()
    if workers <= 1 or len(todo) <= 1:
        # With fewer sequences than workers, the workers encode frames of one sequence in threads.
        for job in progress(todo, description=description):
            summary.frames += _run_one(out, job, produce, suffix, threads=workers)
            summary.written += 1
    else:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            futures = [pool.submit(_run_one, out, job, produce, suffix) for job in todo]
            try:
                for future in progress(
                    _as_completed_failfast(futures), total=len(futures), description=description
                ):
                    summary.frames += future.result()
                    summary.written += 1
            except BaseException:
                for future in futures:
                    future.cancel()
                raise
    summary.seconds = time.monotonic() - start
    summary.sequences = [f"{job.split}/{job.name}" for job in jobs]
    return summary


def remove_if_empty(out: Path) -> None:
    """Delete ``out`` when it holds only empty folders and split records (nothing anyone wrote)."""
    if all(path.is_dir() or path.name == STATE_NAME for path in out.rglob("*")):
        shutil.rmtree(out, ignore_errors=True)


def _as_completed_failfast(futures: list) -> Iterable:
    """Yield futures as they finish; the first failure is yielded at once so it can be raised."""
    pending = set(futures)
    while pending:
        done, pending = wait(pending, return_when=FIRST_EXCEPTION)
        failed = [f for f in done if f.exception() is not None]
        yield from failed
        yield from (f for f in done if f.exception() is None)
