"""`framepred prepare fusion TREE -o FUSION_TREE`: the fusion image of every frame of a frame tree.

The output is a derived tree (``data/derived.py``): the same splits, sequences and frame names as
``TREE``, one fusion image per frame (``data/fusion.py``), and a manifest that records the fusion
options and names ``TREE`` under ``derived_from``, so training can pair each fusion image with its
frame. Like every prepare it runs one job per sequence, in parallel, and a second run finishes what a
killed one left (complete sequences are skipped).

With ``--seg-dir``, the segmentation of frame ``TREE/<split>/<seq>/<name>.<ext>`` is the image
``SEG_DIR/<split>/<seq>/<name>.<any image suffix>``, of the frame's size.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from framepred.data.derived import DERIVED_FROM, derived_from_entry
from framepred.data.fusion import FusionOptions, fusion_image, read_segmentation
from framepred.data.prepare.jobs import JobSummary, SequenceJob, run_sequence_jobs
from framepred.data.tree import FrameTree, Sequence, summarise_tree, write_manifest
from framepred.errors import DataError, UsageError
from framepred.io.atomic import write_text_atomic
from framepred.io.images import list_images, read_image

SOURCE_NAME = "fusion"
OPTIONS_NAME = ".framepred-fusion.json"  # the options the sequences of a fusion tree were made with


def fusion_frames(source: dict[str, Any]) -> Iterator[tuple[np.ndarray, str]]:
    """A job's fusion images, one per frame of its sequence (module level: runs in worker processes)."""
    options = FusionOptions(**source["options"])
    segmentations = source["segmentations"] or [None] * len(source["frames"])
    for frame_path, seg_path in zip(source["frames"], segmentations, strict=True):
        frame = read_image(frame_path)
        segmentation = None
        if seg_path is not None:
            segmentation = read_segmentation(seg_path)
            if segmentation.shape[:2] != frame.shape[:2]:
                message = _size_message(Path(seg_path), segmentation.shape, Path(frame_path), frame.shape)
                raise DataError(message)
        yield fusion_image(frame, options, segmentation, where=frame_path), frame_path


def _size_message(seg: Path, seg_shape: tuple, frame: Path, frame_shape: tuple) -> str:
    return (
        f"{seg}: segmentation is {seg_shape[1]}x{seg_shape[0]} but its frame {frame} is "
        f"{frame_shape[1]}x{frame_shape[0]}; give label maps at the frame size (resize them with "
        "nearest-neighbour interpolation, or prepare the frame tree at their size)"
    )


def segmentation_files(sequence: Sequence, seg_dir: Path) -> list[Path]:
    """The label map of each frame of ``sequence`` in ``seg_dir`` (same split/sequence/file stem)."""
    folder = seg_dir / sequence.split / sequence.name
    if not folder.is_dir():
        raise DataError(
            f"{folder}: no segmentation folder for sequence {sequence.split}/{sequence.name}; --seg-dir "
            "must hold <split>/<sequence>/ folders with one label map per frame, named like the frames"
        )
    by_stem = {path.stem: path for path in list_images(folder)}
    files = []
    for frame in sequence.frames:
        if frame.stem not in by_stem:
            raise DataError(f"{folder}: has no label map for frame {frame} (expected {frame.stem}.png)")
        files.append(by_stem[frame.stem])
    return files


def _check_first_size(sequence: Sequence, segmentation: Path) -> None:
    """One header read per sequence, so a folder of the wrong size fails before any work starts."""
    from PIL import Image

    with Image.open(segmentation) as seg, Image.open(sequence.frames[0]) as frame:
        if seg.size != frame.size:
            seg_shape, frame_shape = (seg.size[1], seg.size[0]), (frame.size[1], frame.size[0])
            raise DataError(_size_message(segmentation, seg_shape, sequence.frames[0], frame_shape))


def prepare_fusion(
    tree: Path,
    out: Path,
    options: FusionOptions | None = None,
    seg_dir: Path | None = None,
    workers: int = 1,
) -> JobSummary:
    """Write the fusion tree of frame tree ``tree`` into ``out``."""
    options = options or FusionOptions(segmentation="folder" if seg_dir is not None else "slic")
    options.check()
    if (options.segmentation == "folder") != (seg_dir is not None):
        raise UsageError("segmentation from a folder needs --seg-dir DIR, and --seg-dir needs no other mode")
    frames = FrameTree(tree)
    if frames.manifest.get(DERIVED_FROM) is not None:
        kind = frames.manifest.get("source")
        raise DataError(f"{tree}: is itself a derived tree ({kind}); give the frame tree it was made from")
    if out.resolve() == frames.root.resolve():
        raise DataError(f"{out}: output folder is the input tree; choose another -o")
    sequences = frames.sequences()
    if not sequences:
        raise DataError(f"{tree}: holds no <split>/<sequence>/ frame folders; make it with framepred prepare")
    if seg_dir is not None and not seg_dir.is_dir():
        raise DataError(f"{seg_dir}: no such segmentation folder; check --seg-dir")
    jobs = []
    for sequence in sequences:
        segmentations = None
        if seg_dir is not None:
            segmentations = segmentation_files(sequence, seg_dir)
            _check_first_size(sequence, segmentations[0])
        source = {
            "frames": [str(p) for p in sequence.frames],
            "segmentations": None if segmentations is None else [str(p) for p in segmentations],
            "options": options.to_dict(),
        }
        jobs.append(SequenceJob(sequence.split, sequence.name, source))
    recorded = {
        "source": SOURCE_NAME,
        "tree": str(frames.root.resolve()),
        "fusion": options.to_dict(),
        "seg_dir": None if seg_dir is None else str(seg_dir.resolve()),
    }
    _check_recorded_options(out, recorded)
    summary = run_sequence_jobs(jobs, out, fusion_frames, workers=workers, description="sequences")
    manifest = summarise_tree(
        out,
        source=SOURCE_NAME,
        inputs=[str(tree)],
        fusion=options.to_dict(),
        segmentation_folder=None if seg_dir is None else str(seg_dir),
    )
    manifest[DERIVED_FROM] = derived_from_entry(out, frames.root)
    write_manifest(out, manifest)
    return summary


def _check_recorded_options(out: Path, options: dict[str, Any]) -> None:
    """Refuse options other than those ``out``'s sequences were made with (complete sequences are
    skipped by name, so a run with other options would mix two kinds of fusion images); then record
    them in a hidden file beside the sequences."""
    options = json.loads(json.dumps(options))
    path = out / OPTIONS_NAME
    if path.is_file():
        try:
            recorded = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise DataError(f"{path}: unreadable ({error}); delete it to start the output afresh") from error
        if isinstance(recorded, dict) and isinstance(recorded.get("fusion"), dict):
            # Trees made before an option existed were made with its default: same images, resumable.
            recorded["fusion"] = {**FusionOptions().to_dict(), **recorded["fusion"]}
        if recorded != options and FrameTree(out).splits():
            raise UsageError(
                f"{out}: was prepared with {recorded} but this run asks for {options}; "
                "use the same options to add to it, or another -o"
            )
    out.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, json.dumps(options) + "\n")


def fusion_manifest_options(root: Path, manifest: dict[str, Any]) -> FusionOptions:
    """The fusion options a fusion tree was made with (DataError for any other tree)."""
    if manifest.get("source") != SOURCE_NAME or "fusion" not in manifest:
        kind = manifest.get("source") or "a tree without manifest"
        raise DataError(
            f"{root}: is a frame tree ({kind}), not fusion images; run "
            f"`framepred prepare fusion {root} -o FUSION_TREE` first and train on FUSION_TREE"
        )
    return FusionOptions.from_dict(manifest["fusion"], f"{root}/manifest.json")
