"""The record each task of a sharded run leaves in the tree, and the merge that turns them into the manifest.

Task K of N (``--shard K/N``) writes its own sequences and, instead of ``manifest.json``, one record:
``OUT/.framepred-shards/<run>/<K>-of-<N>.json`` (hidden, so readers skip it), holding what it adds to
the manifest (its splits' source and options, its sequences' entries) and, for scrape, the keys its
videos add to the download archive. ``<run>`` names the command and a hash of everything the tasks
must agree on, so tasks given other inputs or options never pass for one run.

``merge_tree(OUT)`` checks that every task of every run finished, then writes the manifest through
:func:`framepred.data.manifest.update_manifest`, the function an unsharded run calls, so the result
is byte-identical to one unsharded run; then it removes the records.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from framepred.data.manifest import Contribution, combine, update_manifest
from framepred.data.sharding import Shard
from framepred.data.tree import MANIFEST_NAME
from framepred.errors import DataError
from framepred.io.atomic import write_text_atomic

SHARDS_FOLDER = ".framepred-shards"


def run_name(source: str, agreed: Any) -> str:
    """``<source>-<hash>``: the folder of one sharded run; ``agreed`` is what every task must share."""
    digest = hashlib.sha256(json.dumps(agreed, sort_keys=True, default=str).encode()).hexdigest()
    return f"{source}-{digest[:12]}"


@dataclass
class ShardRecord:
    """What task ``shard`` of the run ``run`` (made by ``command``) has written so far."""

    run: str
    command: str
    shard: Shard
    contribution: Contribution
    sequences: list[str] = field(default_factory=list)  # "split/name" this task made: checked at merge
    archive: str | None = None  # download archive the keys go to (scrape)
    archive_keys: list[tuple[int, str]] = field(default_factory=list)  # (position of the URL, key)
    finished: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "run": self.run,
            "command": self.command,
            "shard": [self.shard.index, self.shard.count],
            "finished": self.finished,
            "sequences": self.sequences,
            "archive": self.archive,
            "archive_keys": [list(pair) for pair in self.archive_keys],
            "contribution": self.contribution.to_json(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ShardRecord:
        return cls(
            run=data["run"],
            command=data["command"],
            shard=Shard(*data["shard"]),
            contribution=Contribution.from_json(data["contribution"]),
            sequences=list(data.get("sequences", [])),
            archive=data.get("archive"),
            archive_keys=[(int(i), str(k)) for i, k in data.get("archive_keys", [])],
            finished=bool(data.get("finished")),
        )


def run_folder(out: Path, run: str) -> Path:
    return out / SHARDS_FOLDER / run


def record_path(out: Path, run: str, shard: Shard) -> Path:
    return run_folder(out, run) / f"{shard.label}.json"


def read_record(out: Path, run: str, shard: Shard) -> ShardRecord | None:
    path = record_path(out, run, shard)
    return _load(path) if path.is_file() else None


def write_record(out: Path, record: ShardRecord) -> None:
    path = record_path(out, record.run, record.shard)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(path, json.dumps(record.to_json(), indent=1) + "\n")
    except OSError as error:
        raise DataError(
            f"{path}: cannot write ({error.strerror}); free disk space or choose another -o"
        ) from error


def forget_run(out: Path, run: str) -> None:
    """Drop the records of ``run`` (an unsharded run has just done all of its work)."""
    shutil.rmtree(run_folder(out, run), ignore_errors=True)
    _remove_if_empty(out / SHARDS_FOLDER)


def _load(path: Path) -> ShardRecord:
    try:
        return ShardRecord.from_json(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as error:
        raise DataError(
            f"{path}: unreadable shard record ({error}); run that task again (it resumes), then merge"
        ) from error


def _remove_if_empty(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not empty, or already gone
        folder.rmdir()


@dataclass
class MergedRun:
    command: str
    tasks: int
    sequences: int


@dataclass
class MergeResult:
    out: Path
    manifest: Path
    runs: list[MergedRun]
    written: bool  # whether manifest.json changed

    def as_dict(self) -> dict[str, Any]:
        return {
            "out": str(self.out),
            "manifest": str(self.manifest),
            "written": self.written,
            "runs": [run.__dict__ for run in self.runs],
        }


def _shard_list(missing: list[int], count: int) -> str:
    shown = ", ".join(f"{k}/{count}" for k in missing[:8])
    return shown + (f" and {len(missing) - 8} more" if len(missing) > 8 else "")


def _check_run(out: Path, folder: Path) -> tuple[list[ShardRecord], str]:
    records = sorted((_load(path) for path in folder.glob("*.json")), key=lambda r: r.shard.index)
    if not records:
        raise DataError(f"{folder}: holds no shard records; delete the folder, or run the tasks again")
    command = records[0].command
    counts = sorted({r.shard.count for r in records})
    if len(counts) > 1:
        raise DataError(
            f"{out}: the tasks of `{command}` were run with different N ({', '.join(map(str, counts))}); "
            f"run every task with the same --shard K/N, or delete {folder} and start again"
        )
    count = counts[0]
    finished = {r.shard.index for r in records if r.finished}
    missing = [k for k in range(count) if k not in finished]
    if missing:
        raise DataError(
            f"{out}: {len(missing)} of {count} tasks of `{command}` have not finished (--shard "
            f"{_shard_list(missing, count)}); run them again (they resume), then merge"
        )
    for record in records:
        for key in record.sequences:
            if not (out / key).is_dir():
                raise DataError(
                    f"{out / key}: missing, though task {record.shard} of `{command}` finished it; "
                    f"run --shard {record.shard} again, then merge"
                )
    return records, command


def _append_archive(records: list[ShardRecord]) -> None:
    """Add the tasks' archive keys in the order of their URLs, as one run would have appended them."""
    from framepred.io.scrape.archive import DownloadArchive

    keys = sorted((pair for r in records for pair in r.archive_keys), key=lambda pair: pair[0])
    if not keys or records[0].archive is None:
        return
    archive = DownloadArchive(Path(records[0].archive))
    for _, key in keys:
        archive.add(key)


def merge_tree(out: str | os.PathLike) -> MergeResult:
    """Check that every task of every sharded run into ``out`` finished, then write the one manifest."""
    out = Path(out)
    if not out.is_dir():
        raise DataError(f"{out}: no such folder; give the -o the sharded tasks wrote to")
    folder = out / SHARDS_FOLDER
    runs = sorted(p for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []
    manifest = out / MANIFEST_NAME
    if not runs:
        if manifest.is_file():
            return MergeResult(out, manifest, [], False)
        raise DataError(
            f"{out}: has no shard records to merge; run the command with --shard K/N into it first"
        )
    checked = [_check_run(out, run) for run in runs]  # every run is checked before anything is written
    merged, written = [], False
    for run, (records, command) in zip(runs, checked):
        _append_archive(records)
        contribution = combine([r.contribution for r in records])
        if contribution.splits:  # a scrape whose tasks wrote nothing adds no manifest, as one run would
            written = update_manifest(out, contribution) or written
        merged.append(MergedRun(command, records[0].shard.count, sum(len(r.sequences) for r in records)))
        shutil.rmtree(run, ignore_errors=True)
    _remove_if_empty(folder)
    return MergeResult(out, manifest, merged, written)
