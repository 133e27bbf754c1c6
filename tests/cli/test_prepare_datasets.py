from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from framepred.cli.app import app
from framepred.data.tree import FrameTree
from tests.data.prepare.raw_trees import make_cityscapes, make_kitti_drive, write_frame

runner = CliRunner()


@pytest.mark.parametrize("source", ["cityscapes", "kitti", "ucf101", "davis", "vimeo"])
def test_every_source_has_help(source: str) -> None:
    result = runner.invoke(app, ["prepare", source, "--help"])
    assert result.exit_code == 0, result.output
    assert "--output" in result.output and "--workers" in result.output


def test_cityscapes_json_then_nothing_to_do(tmp_path: Path) -> None:
    raw = make_cityscapes(tmp_path / "raw", {"val": {"lindau": [(0, 0)]}})
    out = tmp_path / "out"
    first = runner.invoke(
        app, ["prepare", "cityscapes", str(raw), "-o", str(out), "--size", "32x16", "--json"]
    )
    assert first.exit_code == 0, first.output
    summary = json.loads(first.stdout)
    assert summary["written"] == 1 and summary["frames"] == 30 and not summary["nothing_to_do"]
    assert FrameTree(out).manifest["frame_size"] == [32, 16]
    again = runner.invoke(app, ["prepare", "cityscapes", str(raw), "-o", str(out), "--size", "32x16"])
    assert again.exit_code == 0 and "already prepared; nothing to do" in again.stderr


def test_kitti_drive_options_reach_the_library(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    make_kitti_drive(raw, "2011_09_26_drive_0005_sync", 10, cameras=("image_02", "image_03"))
    make_kitti_drive(raw, "2011_09_26_drive_0009_sync", 9)
    out = tmp_path / "out"
    arguments = ["prepare", "kitti", str(raw), "-o", str(out), "--size", "16x8", "--json"]
    arguments += ["--train-drives", "2011_09_26_drive_0005", "--test-drives", "2011_09_26_drive_0009_sync"]
    result = runner.invoke(app, arguments)
    assert result.exit_code == 0, result.output
    tree = FrameTree(out)
    assert [s.name for s in tree.sequences("train")] == [
        "2011_09_26_drive_0005_sync_image_02",
        "2011_09_26_drive_0005_sync_image_03",
    ]
    assert tree.manifest["protocol"]["windows"] == {"test": 1}


def test_vimeo_split_file_and_davis_size(tmp_path: Path) -> None:
    for name in ("im1.png", "im2.png", "im3.png"):
        write_frame(tmp_path / "vimeo" / "sequences" / "00001" / "0001" / name, 20, 12)
    (tmp_path / "list.txt").write_text("00001/0001\n")
    result = runner.invoke(
        app,
        [
            "prepare",
            "vimeo",
            str(tmp_path / "vimeo"),
            "-o",
            str(tmp_path / "v"),
            "--split-file",
            str(tmp_path / "list.txt"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert [s.name for s in FrameTree(tmp_path / "v").sequences("test")] == ["00001_0001"]
    for index in range(3):
        write_frame(tmp_path / "davis" / "JPEGImages" / "480p" / "cows" / f"{index:05d}.jpg", 20, 12)
    result = runner.invoke(
        app, ["prepare", "davis", str(tmp_path / "davis"), "-o", str(tmp_path / "d"), "--size", "16x8"]
    )
    assert result.exit_code == 0, result.output
    assert FrameTree(tmp_path / "d").manifest["frame_size"] == [16, 8]


@pytest.mark.parametrize("source", ["cityscapes", "kitti", "ucf101", "davis", "vimeo"])
def test_bad_layout_is_one_error_line_and_exit_2(source: str, tmp_path: Path) -> None:
    (tmp_path / "raw" / "stuff").mkdir(parents=True)
    result = runner.invoke(app, ["prepare", source, str(tmp_path / "raw"), "-o", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    assert "expected" in result.stderr and "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


def test_bad_size_is_a_usage_error(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["prepare", "cityscapes", str(tmp_path), "-o", str(tmp_path / "o"), "--size", "big"]
    )
    assert result.exit_code == 2 and "WIDTHxHEIGHT" in result.stderr
