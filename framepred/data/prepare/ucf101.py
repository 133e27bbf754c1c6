"""UCF101 frame folders (``jpegs_256`` from feichtenhofer/twostreamfusion): one sequence per video.

Split 1 decides train and test, as DMVFN trains on ``trainlist01.txt``: from the official lists when
they are in RAW (``trainlist01.txt``/``testlist01.txt``, also inside ``ucfTrainTestlist/``), else from
``--split-file`` (the videos it lists are the test split, every other video is train), else by the
rule the lists follow: groups 1-7 test, 8-25 train. Frames keep their size (340x256) unless ``--size``.
The lists spell one class ``HandStandPushups`` where the folders say ``HandstandPushups``, so names
are matched without regard to case.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from framepred.data.prepare.common import (
    Plan,
    PlannedSequence,
    PrepareResult,
    check_consecutive,
    image_files,
    missing_error,
    read_list_file,
    relative,
    run_plan,
    subfolders,
)
from framepred.data.sharding import Shard
from framepred.data.training_clips import random_clips
from framepred.errors import DataError

VIDEO_PATTERN = re.compile(r"^v_(?P<cls>[A-Za-z]+)_g(?P<group>\d{2})_c(?P<clip>\d{2})$")
TEST_GROUPS = range(1, 8)  # split 1: groups 1-7 test, 8-25 train
LAYOUT = "jpegs_256/v_<Class>_g<NN>_c<NN>/frame000001.jpg"
LIST_FOLDERS = (".", "ucfTrainTestlist", "..", "../ucfTrainTestlist")


def find_base(raw: Path) -> Path:
    for base in (raw / "jpegs_256", raw):
        if base.is_dir() and any(VIDEO_PATTERN.match(p.name) for p in base.iterdir() if p.is_dir()):
            return base
    raise DataError(
        f"{raw}: no UCF101 frame folders; expected {LAYOUT} (unzip ucf101_jpegs_256.zip into RAW)"
    )


def video_name(entry: str) -> str:
    """``ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi`` -> ``v_ApplyEyeMakeup_g08_c01``."""
    name = entry.replace("\\", "/").rsplit("/", 1)[-1]
    return name[: -len(".avi")] if name.lower().endswith(".avi") else name


def find_list(raw: Path, base: Path, name: str) -> Path | None:
    for root in (raw, base):
        for folder in LIST_FOLDERS:
            path = (root / folder / name).resolve()
            if path.is_file():
                return path
    return None


def assign_splits(
    raw: Path, base: Path, videos: dict[str, Path], split_file: Path | None
) -> tuple[dict[str, str], str]:
    """video name -> split, and a note saying where the split came from."""
    lower = {name.lower(): name for name in videos}

    def listed(path: Path) -> list[str]:
        names = [video_name(e) for e in read_list_file(path)]
        missing = [n for n in names if n.lower() not in lower]
        if missing:
            raise missing_error(
                str(path), missing, lambda n: base / n, "extract the full ucf101_jpegs_256.zip"
            )
        return [lower[n.lower()] for n in names]

    if split_file is not None:
        test = set(listed(split_file))
        return {v: "test" if v in test else "train" for v in videos}, f"test videos from {split_file}"
    test_list, train_list = find_list(raw, base, "testlist01.txt"), find_list(raw, base, "trainlist01.txt")
    if test_list is not None:
        test = set(listed(test_list))
        train = set(listed(train_list)) if train_list is not None else set(videos) - test
        splits = {v: "test" for v in test} | {v: "train" for v in train if v not in test}
        return splits, f"split 1 from {test_list.parent}"
    splits = {}
    for name in videos:
        match = VIDEO_PATTERN.match(name)
        assert match is not None
        splits[name] = "test" if int(match["group"]) in TEST_GROUPS else "train"
    return splits, "split 1 by group (no testlist01.txt found): groups 1-7 test, 8-25 train"


def plan_ucf101(
    raw: str | os.PathLike, size: tuple[int, int] | None = None, split_file: str | os.PathLike | None = None
) -> Plan:
    """Discover and check the UCF101 frame folders; nothing is read beyond file names."""
    raw = Path(raw)
    if not raw.is_dir():
        raise DataError(f"{raw}: no such folder; give the folder where ucf101_jpegs_256.zip was extracted")
    base = find_base(raw)
    videos = {p.name: p for p in subfolders(base) if VIDEO_PATTERN.match(p.name)}
    splits, where = assign_splits(raw, base, videos, Path(split_file) if split_file is not None else None)
    jobs = []
    for name, folder in videos.items():  # natural order of folder names
        if name not in splits:
            continue
        frames = image_files(folder)
        check_consecutive(frames, folder)
        jobs.append(PlannedSequence(splits[name], name, tuple(map(str, frames)), relative(folder, raw)))
    notes = [where]
    if len(splits) < len(videos):
        notes.append(
            f"{len(videos) - len(splits)} video folder(s) are in neither split list and were left out"
        )
    # UCFTrainDataset: per video and epoch, 10 frames s apart (s in 1..5, at most frames // 10) from
    # a random start.
    rule = random_clips(10, 5, "DMVFN UCFTrainDataset: one 10-frame clip per video per epoch, stride 1-5")
    return Plan(
        source="ucf101", raw=raw, jobs=jobs, size=size, protocol=None, training_clips=rule, notes=notes
    )


def prepare_ucf101(
    raw: str | os.PathLike,
    out: str | os.PathLike,
    size: tuple[int, int] | None = None,
    split_file: str | os.PathLike | None = None,
    workers: int = 1,
    shard: Shard | None = None,
) -> PrepareResult:
    """``framepred prepare ucf101``: RAW (extracted jpegs_256) -> frame tree at ``out``."""
    return run_plan(plan_ucf101(raw, size, split_file), out, workers, shard)
