"""The one path every `prepare <source>` takes from a plan of sequences to a finished frame tree.

A source decides *what* to write (a :class:`WritePlan`: one job per output sequence, the options that
change its frames, what the manifest should say); this module checks that the output may take it,
takes this task's share when sharded, runs the jobs (``framepred.data.prepare.jobs``) and records the
result: ``manifest.json`` for a whole run, a shard record for task K of N (``framepred prepare
merge`` turns those into the manifest).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from framepred.data.manifest import (
    STATE_NAME,
    Contribution,
    SplitSource,
    build_manifest,
    check_splits,
    record_splits,
    update_manifest,
)
from framepred.data.prepare.jobs import Producer, SequenceJob, remove_if_empty, run_sequence_jobs
from framepred.data.shard_records import (
    ShardRecord,
    forget_run,
    read_record,
    run_folder,
    run_name,
    write_record,
)
from framepred.data.sharding import Shard, select
from framepred.data.tree import MANIFEST_NAME, ensure_output_folder, read_manifest
from framepred.errors import DataError, UsageError
from framepred.io.paths import IMAGE_SUFFIXES, is_hidden


@dataclass
class WritePlan:
    """Everything a source decided before any pixel is read."""

    source: str
    jobs: list[SequenceJob]
    produce: Producer
    split_source: SplitSource  # the same source and options for every split the plan writes
    weights: list[float]  # work per job (frames to decode), for splitting it between tasks
    description: str = "sequences"
    frame_counts: list[int] | None = None  # frames each job makes, when known up front
    origins: dict[str, str] | None = None  # "split/name" -> where it came from
    protocol: dict[str, Any] | None = None
    training_clips: dict[str, Any] | None = None  # the paper's training samples (data/training_clips.py)
    notes: list[str] = field(default_factory=list)
    raw: Path | None = None  # read-only input folder that the output must not be inside
    exclusive: bool = False  # its splits hold only its sequences (the public data sets)

    def splits(self) -> dict[str, SplitSource]:
        return {job.split: self.split_source for job in self.jobs}

    def contribution(self) -> Contribution:
        entries = {"origins": self.origins} if self.origins else {}
        return Contribution(self.splits(), entries, self.protocol, self.training_clips)

    def run(self) -> str:
        """The name of a sharded run of this plan: the tasks must agree on all of this."""
        agreed = {
            "contribution": self.contribution().to_json(),
            "jobs": [(j.split, j.name) for j in self.jobs],
        }
        return run_name(self.source, agreed)


@dataclass
class PrepareResult:
    source: str
    out: Path
    sequences: int  # in the plan (all tasks)
    written: int  # sequences written by this run
    skipped: int  # sequences of this run that were already complete
    frames: int
    seconds: float
    nothing_to_do: bool
    manifest: Path | None  # None for a task of a sharded run: merge writes it
    notes: list[str]
    shard: Shard | None = None
    share: int = 0  # sequences this task is responsible for

    @property
    def frames_per_second(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "out": str(self.out),
            "sequences": self.sequences,
            "shard": str(self.shard) if self.shard else None,
            "share": self.share,
            "written": self.written,
            "skipped": self.skipped,
            "frames": self.frames,
            "seconds": round(self.seconds, 3),
            "frames_per_second": round(self.frames_per_second, 2),
            "nothing_to_do": self.nothing_to_do,
            "manifest": str(self.manifest) if self.manifest else None,
            "notes": self.notes,
        }


def _visible_frames(folder: Path) -> int:
    return sum(1 for p in folder.iterdir() if not is_hidden(p) and p.suffix.lower() in IMAGE_SUFFIXES)


def _check_output(plan: WritePlan, out: Path) -> None:
    """Refuse an output that cannot take this plan, before anything is written."""
    if out.exists() and not out.is_dir():
        raise DataError(f"{out}: is a file, not a folder; choose another -o")
    if plan.raw is not None:
        raw, resolved = plan.raw.resolve(), out.resolve()
        if resolved == raw or raw in resolved.parents:
            raise UsageError(
                f"{out}: is inside the raw folder {plan.raw}; write elsewhere (the source is never modified)"
            )
    if not out.is_dir():
        return
    if plan.exclusive and _foreign(out):
        raise UsageError(
            f"{out}: is not empty and was not made by framepred; use a new -o for `prepare {plan.source}`"
        )
    check_splits(out, plan.splits())
    if plan.exclusive:
        _check_sequences(plan, out)


def _check_sequences(plan: WritePlan, out: Path) -> None:
    """In the splits a public data set writes: only its sequences, each with all of its frames."""
    wanted = {(job.split, job.name): index for index, job in enumerate(plan.jobs)}
    for split in sorted(plan.splits()):
        folder = out / split
        existing = [p for p in folder.iterdir() if p.is_dir() and not is_hidden(p)] if folder.is_dir() else []
        for sequence in existing:
            index = wanted.get((split, sequence.name))
            if index is None:
                raise UsageError(
                    f"{sequence}: this run would not make this sequence (other options or source?); "
                    "use the same options to resume, or another -o"
                )
            expected = plan.frame_counts[index] if plan.frame_counts is not None else None
            count = _visible_frames(sequence)
            if expected is not None and count != expected:
                # The writer only renames complete folders, so this one was made or changed by something else.
                raise DataError(
                    f"{sequence}: has {count} frames, its source {expected}; delete it and run again"
                )


def _foreign(out: Path) -> bool:
    """Whether ``out`` holds visible things but nothing says framepred made them.

    (A split folder framepred makes has its record inside from the start: ``record_splits``.)
    """
    visible = [p for p in out.iterdir() if not is_hidden(p)]
    if not visible or (out / MANIFEST_NAME).is_file() or (out / STATE_NAME).is_file():
        return False
    return not any((p / STATE_NAME).is_file() for p in visible if p.is_dir())


def write_plan(
    plan: WritePlan, out: str | os.PathLike, workers: int = 1, shard: Shard | None = None
) -> PrepareResult:
    """Write ``plan`` (or task ``shard``'s share of it) into the frame tree at ``out``."""
    if workers < 1:
        raise UsageError(f"--workers {workers}: must be at least 1")
    if not plan.jobs:
        raise DataError(f"{plan.raw or out}: no {plan.source} sequences found to prepare; check the inputs")
    out = Path(out)
    _check_output(plan, out)
    mine = [job for job, keep in zip(plan.jobs, select(shard, plan.weights)) if keep]
    contribution, run = plan.contribution(), plan.run()
    keys = [f"{job.split}/{job.name}" for job in mine]
    record = None
    if shard is not None:
        command, entries = f"prepare {plan.source}", contribution.only(set(keys))
        record = ShardRecord(run, command, shard, entries, keys, finished=True)
    manifest = out / MANIFEST_NAME if shard is None else None
    result = PrepareResult(
        plan.source, out, len(plan.jobs), 0, 0, 0, 0.0, False, manifest, list(plan.notes), shard, len(mine)
    )
    if _nothing_to_do(out, mine, contribution, run, record):
        result.nothing_to_do, result.skipped = True, len(mine)
        return result

    created = not out.exists()
    ensure_output_folder(out)  # a one-line error for an unwritable -o, not mkdir's traceback
    try:
        record_splits(out, plan.splits())
        summary = run_sequence_jobs(mine, out, plan.produce, workers=workers, description=plan.description)
    except BaseException:
        # A failed first run leaves no empty tree that looks prepared. Not for a task of a sharded
        # run: the others share the folder and may be writing there.
        if created and shard is None:
            remove_if_empty(out)
        raise
    result.written, result.skipped = summary.written, summary.skipped
    result.frames, result.seconds = summary.frames, summary.seconds
    if record is None:
        update_manifest(out, contribution)
        forget_run(out, run)  # an earlier sharded attempt at the same work is now complete
    else:
        write_record(out, record)
    return result


def _nothing_to_do(
    out: Path, mine: list[SequenceJob], contribution: Contribution, run: str, record: ShardRecord | None
) -> bool:
    """Whether this task's sequences are all there and already recorded (in its record or the manifest)."""
    if not out.is_dir() or not all((out / job.split / job.name).is_dir() for job in mine):
        return False
    if record is not None:
        earlier = read_record(out, run, record.shard)
        if earlier is not None:
            return earlier.to_json() == record.to_json()
    if run_folder(out, run).exists():  # records of a sharded attempt wait for a merge (or for this run)
        return False
    # The run is complete (and merged): the manifest already says what this run would write.
    return (out / MANIFEST_NAME).is_file() and read_manifest(out) == build_manifest(out, contribution)
