"""`framepred prepare cityscapes|kitti|ucf101|davis|vimeo`: public data sets into the frame tree.

Registered on ``prepare_app`` (framepred/cli/prepare.py imports this module). Each command
parses its options and calls one ``framepred.data.prepare.<source>.prepare_<source>`` function.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer

from framepred.cli.errors import guarded
from framepred.cli.options import SHARD
from framepred.cli.prepare import JSON, OUT, WORKERS, prepare_app, report

SIZE_HELP = "Resize frames to WIDTHxHEIGHT (OpenCV bilinear, as the official preparation)."
SPLIT_FILE = typer.Option(None, "--split-file", help="Text file listing the test sequences, one per line.")


def _raw(help_text: str) -> Any:
    return typer.Argument(..., help=help_text)


def _prepare(
    prepare: Callable[..., Any],
    raw: Path,
    out: Path,
    size: str | None,
    workers: int,
    shard: str,
    as_json: bool,
    **options: Any,
) -> None:
    """Parse the options every source shares, run ``prepare`` and print its result."""
    from framepred.data.resize import parse_size
    from framepred.data.sharding import parse_shard

    result = prepare(raw, out, size=parse_size(size), workers=workers, shard=parse_shard(shard), **options)
    report(result, as_json)


@prepare_app.command("cityscapes")
@guarded
def cityscapes(
    raw: Path = _raw("Folder holding the extracted leftImg8bit_sequence_trainvaltest.zip."),
    out: Path = OUT,
    size: str = typer.Option("1024x512", "--size", help=SIZE_HELP),
    workers: int = WORKERS,
    shard: str = SHARD,
    as_json: bool = JSON,
) -> None:
    """Cityscapes sequences: 30-frame snippets; train -> train, val -> test (DMVFN), 1024x512."""
    from framepred.data.prepare.cityscapes import prepare_cityscapes

    _prepare(prepare_cityscapes, raw, out, size, workers, shard, as_json)


@prepare_app.command("kitti")
@guarded
def kitti(
    raw: Path = _raw("Folder holding the extracted KITTI raw drives (<date>/<date>_drive_<id>_sync/)."),
    out: Path = OUT,
    size: str = typer.Option("832x256", "--size", help=SIZE_HELP),
    train_drives: list[str] = typer.Option(
        None, "--train-drives", help="Training drives (default: DMVFN's 24)."
    ),
    test_drives: list[str] = typer.Option(None, "--test-drives", help="Test drives (default: DMVFN's 4)."),
    workers: int = WORKERS,
    shard: str = SHARD,
    as_json: bool = JSON,
) -> None:
    """KITTI raw drives: DMVFN's train/test drives at 832x256; test windows of 9 frames, stride 1."""
    from framepred.data.prepare.kitti import prepare_kitti

    drives = {"train_drives": train_drives or None, "test_drives": test_drives or None}
    _prepare(prepare_kitti, raw, out, size, workers, shard, as_json, **drives)


@prepare_app.command("ucf101")
@guarded
def ucf101(
    raw: Path = _raw("Folder holding the extracted ucf101_jpegs_256.zip (jpegs_256/)."),
    out: Path = OUT,
    size: str = typer.Option(None, "--size", help=SIZE_HELP + " Default: keep 340x256."),
    split_file: Path = SPLIT_FILE,
    workers: int = WORKERS,
    shard: str = SHARD,
    as_json: bool = JSON,
) -> None:
    """UCF101 frame folders: one sequence per video, split 1 (testlist01.txt or groups 1-7 test)."""
    from framepred.data.prepare.ucf101 import prepare_ucf101

    _prepare(prepare_ucf101, raw, out, size, workers, shard, as_json, split_file=split_file)


@prepare_app.command("davis")
@guarded
def davis(
    raw: Path = _raw("Folder holding the extracted DAVIS 2017 archive (JPEGImages/480p/)."),
    out: Path = OUT,
    size: str = typer.Option(None, "--size", help=SIZE_HELP + " Default: keep the size."),
    split_file: Path = SPLIT_FILE,
    workers: int = WORKERS,
    shard: str = SHARD,
    as_json: bool = JSON,
) -> None:
    """DAVIS 2017 480p: one test sequence per video (all, or those in --split-file)."""
    from framepred.data.prepare.davis import prepare_davis

    _prepare(prepare_davis, raw, out, size, workers, shard, as_json, split_file=split_file)


@prepare_app.command("vimeo")
@guarded
def vimeo(
    raw: Path = _raw("Folder holding the extracted vimeo_triplet.zip (sequences/, tri_*list.txt)."),
    out: Path = OUT,
    size: str = typer.Option(None, "--size", help=SIZE_HELP + " Default: keep 448x256."),
    split_file: Path = SPLIT_FILE,
    workers: int = WORKERS,
    shard: str = SHARD,
    as_json: bool = JSON,
) -> None:
    """Vimeo-90K triplets: one three-frame sequence per triplet, tri_trainlist/tri_testlist."""
    from framepred.data.prepare.vimeo import prepare_vimeo

    _prepare(prepare_vimeo, raw, out, size, workers, shard, as_json, split_file=split_file)
