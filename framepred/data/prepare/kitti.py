"""KITTI raw drives: each camera stream of each drive becomes one sequence.

The DMVFN drive lists (from Wu et al., CVPR 2020, as in the DMVFN README) are built in: 4 test drives
(left colour camera ``image_02``) and 24 training drives (``image_02`` and ``image_03``). Frames are
resized from the original to 832x256 with OpenCV's default bilinear interpolation (specs/dmvfn.md §10).

The official script copies every stride-1 9-frame window into its own folder (13,500 training and
1,337 test clips, each frame stored up to nine times). Here each stream is written once and the
manifest's ``protocol`` says "every 9-frame window, stride 1" so evaluation scores exactly those windows;
windows are enumerated over sequences in name order, which is the official clip order.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

from framepred.data.prepare.common import (
    Plan,
    PlannedSequence,
    PrepareResult,
    check_consecutive,
    dmvfn_protocol,
    image_files,
    missing_error,
    relative,
    run_plan,
)
from framepred.data.sharding import Shard
from framepred.data.training_clips import windows
from framepred.errors import DataError, UsageError

DEFAULT_SIZE = (832, 256)
WINDOW = 9
TEST_DRIVES = tuple(f"2011_09_26_drive_{n:04d}_sync" for n in (60, 84, 93, 96))
TRAIN_DRIVES = (
    *(
        f"2011_09_26_drive_{n:04d}_sync"
        for n in (1, 2, 5, 9, 11, 13, 14, 17, 18, 48, 51, 56, 57, 59, 91, 95, 104, 106, 113, 117)
    ),
    "2011_09_28_drive_0001_sync",
    "2011_09_28_drive_0002_sync",
    "2011_09_29_drive_0026_sync",
    "2011_09_29_drive_0071_sync",
)
CAMERAS = {"train": ("image_02", "image_03"), "test": ("image_02",)}
DRIVE_PATTERN = re.compile(r"^(?P<date>\d{4}_\d{2}_\d{2})_drive_(?P<id>\d{4})(_sync)?$")
LAYOUT = "<date>/<date>_drive_<id>_sync/image_02/data/*.png"


def normalise_drive(name: str) -> str:
    """``2011_09_26_drive_0060`` or ``..._sync`` -> ``2011_09_26_drive_0060_sync``."""
    match = DRIVE_PATTERN.match(name.strip())
    if not match:
        raise UsageError(f"drive {name!r}: expected a KITTI raw drive name like 2011_09_26_drive_0060_sync")
    return f"{match['date']}_drive_{match['id']}_sync"


def split_names(values: Sequence[str] | None) -> list[str] | None:
    """Drive options may be repeated or comma-separated; None means 'use the built-in list'."""
    if values is None:
        return None
    return [normalise_drive(v) for value in values for v in value.split(",") if v.strip()]


def find_drives(raw: Path) -> dict[str, Path]:
    """Drive folders at ``RAW/<date>/<drive>`` (as the zips extract) or directly at ``RAW/<drive>``."""
    found: dict[str, Path] = {}
    candidates = [p for p in raw.iterdir() if p.is_dir()]
    candidates += [q for p in candidates if re.fullmatch(r"\d{4}_\d{2}_\d{2}", p.name) for q in p.iterdir()]
    for folder in candidates:
        if folder.is_dir() and DRIVE_PATTERN.match(folder.name) and folder.name.endswith("_sync"):
            found[folder.name] = folder
    return found


def _expected_path(raw: Path, drive: str, camera: str = "image_02") -> Path:
    return raw / drive[:10] / drive / camera / "data"


def plan_kitti(
    raw: str | os.PathLike,
    size: tuple[int, int] | None = None,
    train_drives: Sequence[str] | None = None,
    test_drives: Sequence[str] | None = None,
) -> Plan:
    """Discover and check the KITTI raw drives of the train/test lists; nothing is read beyond file names."""
    raw = Path(raw)
    if not raw.is_dir():
        raise DataError(
            f"{raw}: no such folder; give the folder where the KITTI raw *_sync.zip files were extracted"
        )
    lists = {
        "train": split_names(train_drives) if train_drives is not None else list(TRAIN_DRIVES),
        "test": split_names(test_drives) if test_drives is not None else list(TEST_DRIVES),
    }
    both = sorted(set(lists["train"]) & set(lists["test"]))
    if both:
        raise UsageError(
            f"drive {both[0]} is in both --train-drives and --test-drives; a drive belongs to one split"
        )
    drives = find_drives(raw)
    if not drives:
        raise DataError(
            f"{raw}: no KITTI drives found; expected {LAYOUT} (extract the raw *_sync.zip files into RAW)"
        )

    jobs: list[PlannedSequence] = []
    notes: list[str] = []
    for split in ("train", "test"):
        present = [d for d in lists[split] if d in drives]
        missing = [d for d in lists[split] if d not in drives]
        if lists[split] and not present:
            notes.append(f"none of the {len(lists[split])} {split} drives is in {raw}: no {split!r} split")
            continue
        if missing:
            raise missing_error(
                f"the {split} drive list ({len(present)} of {len(lists[split])} found)",
                missing,
                lambda d: _expected_path(raw, d),
                f"download and extract it, or choose drives with --{split}-drives",
            )
        for drive in sorted(present):
            for camera in CAMERAS[split]:
                data = drives[drive] / camera / "data"
                if not data.is_dir():
                    raise DataError(
                        f"{data}: not found; the {split} split needs {camera} of every drive ({LAYOUT})"
                    )
                frames = image_files(data)
                check_consecutive(frames, data)
                jobs.append(
                    PlannedSequence(split, f"{drive}_{camera}", tuple(map(str, frames)), relative(data, raw))
                )
    return Plan(
        source="kitti",
        raw=raw,
        jobs=jobs,
        size=size or DEFAULT_SIZE,
        protocol=dmvfn_protocol(jobs, WINDOW, 1),
        # The official clips are every stride-1 9-frame window of each training stream (13,500).
        training_clips=windows(WINDOW, 1, "DMVFN KittiTrainDataset: every 9-frame window, stride 1"),
        notes=notes,
    )


def prepare_kitti(
    raw: str | os.PathLike,
    out: str | os.PathLike,
    size: tuple[int, int] | None = None,
    train_drives: Sequence[str] | None = None,
    test_drives: Sequence[str] | None = None,
    workers: int = 1,
    shard: Shard | None = None,
) -> PrepareResult:
    """``framepred prepare kitti``: RAW (extracted KITTI raw drives) -> frame tree at ``out``."""
    return run_plan(plan_kitti(raw, size, train_drives, test_drives), out, workers, shard)
