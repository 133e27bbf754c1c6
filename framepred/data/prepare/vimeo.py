"""Vimeo-90K triplets (``vimeo_triplet``): one three-frame sequence per triplet.

``sequences/<a>/<b>/im1.png..im3.png`` with ``tri_trainlist.txt`` / ``tri_testlist.txt`` (lines like
``00001/0001``); sequence ``<a>_<b>``. ``--split-file`` replaces the test list (every other triplet is
then train). DMVFN evaluates frames #0, #1 -> #2 of each test triplet (specs/dmvfn.md §8); frames keep
their 448x256 size unless ``--size``.
"""

from __future__ import annotations

import os
from pathlib import Path

from framepred.data.prepare.common import (
    Plan,
    PlannedSequence,
    PrepareResult,
    dmvfn_protocol,
    missing_error,
    read_list_file,
    relative,
    run_plan,
    subfolders,
)
from framepred.data.sharding import Shard
from framepred.data.training_clips import windows
from framepred.errors import DataError

FRAMES = ("im1.png", "im2.png", "im3.png")
TEST_WINDOW = 3
LAYOUT = "sequences/<a>/<b>/im1.png..im3.png with tri_trainlist.txt and tri_testlist.txt"


def find_base(raw: Path) -> Path:
    for base in (raw, raw / "vimeo_triplet"):
        if (base / "sequences").is_dir():
            return base
    raise DataError(f"{raw / 'sequences'}: not found; expected {LAYOUT} (unzip vimeo_triplet.zip into RAW)")


def plan_vimeo(
    raw: str | os.PathLike, size: tuple[int, int] | None = None, split_file: str | os.PathLike | None = None
) -> Plan:
    """Discover and check the Vimeo-90K triplets; nothing is read beyond file names."""
    raw = Path(raw)
    if not raw.is_dir():
        raise DataError(f"{raw}: no such folder; give the folder where vimeo_triplet.zip was extracted")
    base = find_base(raw)
    sequences = base / "sequences"
    test_list = Path(split_file) if split_file is not None else base / "tri_testlist.txt"
    train_list = base / "tri_trainlist.txt"
    if split_file is None and not test_list.is_file() and not train_list.is_file():
        raise DataError(
            f"{test_list}: not found (nor tri_trainlist.txt); expected {LAYOUT}, or give --split-file"
        )

    test = read_list_file(test_list) if test_list.is_file() or split_file is not None else []
    if split_file is not None or not train_list.is_file():
        # Every triplet on disk that the test list does not name is training data.
        on_disk = [f"{a.name}/{b.name}" for a in subfolders(sequences) for b in subfolders(a)]
        listed = set(test)
        train = [t for t in on_disk if t not in listed]
    else:
        train = read_list_file(train_list)
    notes = [f"test triplets from {test_list}" if test else "no test list: no 'test' split"]

    jobs = []
    for split, entries in (("train", train), ("test", test)):
        missing = [e for e in entries if not (sequences / e).is_dir()]
        if missing:
            source = test_list if split == "test" else train_list
            raise missing_error(
                str(source), missing, lambda e: sequences / e, "extract the full vimeo_triplet.zip"
            )
        for entry in entries:
            folder = sequences / entry
            frames = [folder / name for name in FRAMES]
            absent = [f for f in frames if not f.is_file()]
            if absent:
                raise DataError(f"{absent[0]}: missing; every triplet folder holds {', '.join(FRAMES)}")
            jobs.append(
                PlannedSequence(
                    split, entry.replace("/", "_"), tuple(map(str, frames)), relative(folder, raw)
                )
            )
    return Plan(
        source="vimeo",
        raw=raw,
        jobs=jobs,
        size=size,
        protocol=dmvfn_protocol(jobs, TEST_WINDOW, None),
        # DMVFN's own Vimeo training loader does not run (specs/dmvfn.md §7.4); one triplet, one step.
        training_clips=windows(len(FRAMES), len(FRAMES), "Vimeo-90K: each whole triplet"),
        notes=notes,
    )


def prepare_vimeo(
    raw: str | os.PathLike,
    out: str | os.PathLike,
    size: tuple[int, int] | None = None,
    split_file: str | os.PathLike | None = None,
    workers: int = 1,
    shard: Shard | None = None,
) -> PrepareResult:
    """``framepred prepare vimeo``: RAW (extracted vimeo_triplet) -> frame tree at ``out``."""
    return run_plan(plan_vimeo(raw, size, split_file), out, workers, shard)
