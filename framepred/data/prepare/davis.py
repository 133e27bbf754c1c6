"""DAVIS 2017 ``JPEGImages/480p``: one sequence per video, all in the ``test`` split.

DMVFN only evaluates on DAVIS (first 9 frames of a clip: inputs #2, #3, targets #4..#8, specs/dmvfn.md
§7.4, §8). Every sequence found goes to ``test``, or only those named in ``--split-file`` (one name per
line, e.g. ``ImageSets/2017/val.txt``). Frames keep their size unless ``--size`` (480p frames are
854x480, which the official network cannot take without padding; framepred pads).
"""

from __future__ import annotations

import os
from pathlib import Path

from framepred.data.prepare.common import (
    Plan,
    PlannedSequence,
    PrepareResult,
    check_consecutive,
    dmvfn_protocol,
    image_files,
    missing_error,
    read_list_file,
    relative,
    run_plan,
    subfolders,
)
from framepred.data.sharding import Shard
from framepred.errors import DataError

TEST_WINDOW = 9
LAYOUT = "JPEGImages/480p/<sequence>/00000.jpg"


def find_base(raw: Path) -> Path:
    for base in (raw / "JPEGImages" / "480p", raw / "DAVIS" / "JPEGImages" / "480p"):
        if base.is_dir():
            return base
    raise DataError(
        f"{raw / 'JPEGImages' / '480p'}: not found; expected {LAYOUT} (unzip DAVIS-2017-trainval-480p.zip or "
        "a DAVIS 2017 test archive into RAW)"
    )


def plan_davis(
    raw: str | os.PathLike, size: tuple[int, int] | None = None, split_file: str | os.PathLike | None = None
) -> Plan:
    """Discover and check the DAVIS frame folders; nothing is read beyond file names."""
    raw = Path(raw)
    if not raw.is_dir():
        raise DataError(f"{raw}: no such folder; give the folder where the DAVIS 2017 archive was extracted")
    base = find_base(raw)
    folders = {p.name: p for p in subfolders(base)}
    if not folders:
        raise DataError(f"{base}: has no sequence folders; expected {LAYOUT}")
    names = list(folders)
    notes = [f"all {len(names)} sequences of {base} as test"]
    if split_file is not None:
        listed = read_list_file(Path(split_file))
        missing = [n for n in listed if n not in folders]
        if missing:
            raise missing_error(
                str(split_file), missing, lambda n: base / n, "extract the archive it belongs to"
            )
        wanted = set(listed)
        names = [n for n in names if n in wanted]
        notes = [f"{len(names)} sequences listed in {split_file} as test"]
    jobs = []
    for name in names:
        frames = image_files(folders[name])
        check_consecutive(frames, folders[name])
        jobs.append(PlannedSequence("test", name, tuple(map(str, frames)), relative(folders[name], raw)))
    return Plan(
        source="davis",
        raw=raw,
        jobs=jobs,
        size=size,
        protocol=dmvfn_protocol(jobs, TEST_WINDOW, None),
        notes=notes,
    )


def prepare_davis(
    raw: str | os.PathLike,
    out: str | os.PathLike,
    size: tuple[int, int] | None = None,
    split_file: str | os.PathLike | None = None,
    workers: int = 1,
    shard: Shard | None = None,
) -> PrepareResult:
    """``framepred prepare davis``: RAW (extracted DAVIS 2017) -> frame tree at ``out``."""
    return run_plan(plan_davis(raw, size, split_file), out, workers, shard)
