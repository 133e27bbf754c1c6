"""Cityscapes ``leftImg8bit_sequence``: each 30-frame snippet becomes one sequence.

As the official DMVFN preparation (specs/dmvfn.md §10): for each split, cities in sorted order and,
inside a city, the sorted file list cut into consecutive chunks of 30; chunk k (counted over all cities
of the split) is sequence ``%06d``. ``train`` -> ``train`` (2975 snippets) and ``val`` -> ``test``
(500 snippets: DMVFN's test set is the official val split). The official ``test`` split is not used.
Frames are resized from the original to 1024x512 with OpenCV's default bilinear interpolation.
The DMVFN test protocol takes the first 14 frames of every test sequence (inputs #2, #3, targets #4..#8).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from framepred.data.prepare.common import (
    Plan,
    PlannedSequence,
    PrepareResult,
    dmvfn_protocol,
    relative,
    run_plan,
)
from framepred.data.sharding import Shard
from framepred.data.training_clips import windows
from framepred.errors import DataError

DEFAULT_SIZE = (1024, 512)
SNIPPET_FRAMES = 30
SPLITS = {"train": "train", "val": "test"}  # Cityscapes split -> frame-tree split
TEST_WINDOW = 14  # CityValDataset loads the first 14 frames of a clip
FILE_PATTERN = re.compile(r"^(?P<city>.+)_(?P<seq>\d+)_(?P<frame>\d+)_leftImg8bit\.png$")
LAYOUT = "leftImg8bit_sequence/{train,val}/<city>/<city>_<seq>_<frame>_leftImg8bit.png"


def find_base(raw: Path) -> Path:
    """The ``leftImg8bit_sequence`` folder: RAW itself or directly inside it."""
    for base in (raw / "leftImg8bit_sequence", raw):
        if any((base / split).is_dir() for split in SPLITS):
            return base
    raise DataError(
        f"{raw}: expected {LAYOUT} (extract leftImg8bit_sequence_trainvaltest.zip into RAW), found neither "
        f"{raw / 'leftImg8bit_sequence' / 'train'} nor {raw / 'leftImg8bit_sequence' / 'val'}"
    )


def city_snippets(city: Path) -> list[list[Path]]:
    """The city's frames cut into 30-frame snippets, each checked to be 30 consecutive frames.

    The official script chunks the sorted list blindly, so one missing file silently shifts every later
    snippet; here a gap is an error naming the first file that breaks the run.
    """
    files = sorted(p for p in city.iterdir() if FILE_PATTERN.match(p.name) and p.is_file())
    if not files:
        raise DataError(f"{city}: no frames; expected {city.name}_<seq>_<frame>_leftImg8bit.png files there")
    snippets = [files[i : i + SNIPPET_FRAMES] for i in range(0, len(files), SNIPPET_FRAMES)]
    for snippet in snippets:
        first = FILE_PATTERN.match(snippet[0].name)
        assert first is not None
        for offset, path in enumerate(snippet):
            match = FILE_PATTERN.match(path.name)
            assert match is not None
            expected_frame = int(first["frame"]) + offset
            if match["seq"] != first["seq"] or int(match["frame"]) != expected_frame:
                width = len(first["frame"])
                missing = city / f"{first['city']}_{first['seq']}_{expected_frame:0{width}d}_leftImg8bit.png"
                raise DataError(
                    f"{missing}: missing (snippets are {SNIPPET_FRAMES} consecutive frames and the snippet "
                    f"starting at {snippet[0].name} jumps to {path.name}); re-extract the archive"
                )
        if len(snippet) != SNIPPET_FRAMES:
            raise DataError(
                f"{snippet[-1]}: the last snippet of {city} has {len(snippet)} frames, expected "
                f"{SNIPPET_FRAMES}; frames after it are missing, re-extract the archive"
            )
    return snippets


def plan_cityscapes(raw: str | os.PathLike, size: tuple[int, int] | None = None) -> Plan:
    """Discover and check the Cityscapes sequence tree; nothing is read beyond file names."""
    raw = Path(raw)
    if not raw.is_dir():
        raise DataError(
            f"{raw}: no such folder; give the folder leftImg8bit_sequence_trainvaltest.zip was extracted to"
        )
    base = find_base(raw)
    jobs: list[PlannedSequence] = []
    notes: list[str] = []
    for source_split, split in SPLITS.items():
        folder = base / source_split
        if not folder.is_dir():
            notes.append(f"{folder} not found: no {split!r} split")
            continue
        # Plain sorted names, as the official script does.
        cities = sorted((p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")), key=str)
        if not cities:
            raise DataError(f"{folder}: has no city folders; expected {LAYOUT}")
        index = 0
        for city in cities:
            for snippet in city_snippets(city):
                origin = f"{relative(snippet[0], raw)}..{snippet[-1].name}"
                jobs.append(PlannedSequence(split, f"{index:06d}", tuple(map(str, snippet)), origin))
                index += 1
    return Plan(
        source="cityscapes",
        raw=raw,
        jobs=jobs,
        size=size or DEFAULT_SIZE,
        protocol=dmvfn_protocol(jobs, TEST_WINDOW, None),
        # CityTrainDataset: the first 30 frames of each snippet, i.e. the whole snippet.
        training_clips=windows(
            SNIPPET_FRAMES, SNIPPET_FRAMES, "DMVFN CityTrainDataset: each whole 30-frame snippet"
        ),
        notes=notes,
    )


def prepare_cityscapes(
    raw: str | os.PathLike,
    out: str | os.PathLike,
    size: tuple[int, int] | None = None,
    workers: int = 1,
    shard: Shard | None = None,
) -> PrepareResult:
    """``framepred prepare cityscapes``: RAW (extracted leftImg8bit_sequence) -> frame tree at ``out``."""
    return run_plan(plan_cityscapes(raw, size), out, workers, shard)
