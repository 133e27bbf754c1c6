"""`framepred clip` through the CLI: results, JSON, and one-line errors with exit code 2."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from framepred.cli.app import app
from framepred.io.images import write_image

runner = CliRunner()


@pytest.fixture
def data(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    for name, frames in [("walk", 8), ("run", 6), ("blink", 2)]:
        folder = tmp_path / "frames" / "train" / name
        folder.mkdir(parents=True)
        for t in range(frames):
            write_image(folder / f"{t:06d}.png", rng.integers(0, 256, (24, 30, 3), dtype=np.uint8))
    return tmp_path / "frames"


def test_clip_writes_shards_and_reports_json(data: Path, tmp_path: Path):
    out = tmp_path / "clips"
    args = ["clip", str(data), "-o", str(out), "-n", "40", "--size", "16", "--shard-size", "32", "-j", "1"]
    result = runner.invoke(app, [*args, "--seed", "3", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["count"] == 40 and report["made"] == 40 and len(report["shards"]) == 2
    assert report["source"]["sequences"] == 2 and report["source"]["skipped_short"] == 1
    assert np.load(out / "shard-00001.npy").shape == (8, 5, 16, 16, 3)
    again = runner.invoke(app, [*args, "--seed", "3"])  # same run: nothing left to do
    assert again.exit_code == 0 and "2 shards kept" in " ".join(again.output.split())


def test_clip_human_summary(data: Path, tmp_path: Path):
    result = runner.invoke(
        app, ["clip", str(data / "train"), "-o", str(tmp_path / "c"), "-n", "10", "--size", "8"]
    )
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())  # rich wraps long lines when not on a terminal
    assert "wrote 10 clips in 1 shards" in text and "1 shorter than 5 frames" in text


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["-n", "0"], "-n must be a positive number of clips"),
        (["-n", "5", "--size", "25"], "--size 25 is larger than the frames"),
        (["-n", "5", "--frames", "9"], "fewer than 9 frames"),
        (["-n", "5", "--take-first", "2"], "--take-first is a probability"),
    ],
)
def test_clip_bad_options_fail_with_one_line(data: Path, tmp_path: Path, options: list[str], message: str):
    result = runner.invoke(app, ["clip", str(data), "-o", str(tmp_path / "c"), *options])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and message in lines[0], result.output


def test_clip_missing_or_empty_data(tmp_path: Path):
    missing = runner.invoke(app, ["clip", str(tmp_path / "nope"), "-o", str(tmp_path / "c"), "-n", "5"])
    assert missing.exit_code == 2 and "no such folder" in missing.output
    (tmp_path / "empty").mkdir()
    empty = runner.invoke(app, ["clip", str(tmp_path / "empty"), "-o", str(tmp_path / "c"), "-n", "5"])
    assert empty.exit_code == 2 and "no frame folders" in empty.output
    assert not (tmp_path / "c").exists()


def test_clip_shard_tasks_and_merge(data: Path, tmp_path: Path):
    out = str(tmp_path / "clips")
    args = ["clip", str(data), "-o", out, "-n", "40", "--size", "16", "--shard-size", "8", "-j", "1"]
    first = runner.invoke(app, [*args, "--shard", "0/2"])
    assert first.exit_code == 0, first.output
    assert "task 0/2" in first.stderr and f"framepred clip --merge {out}" in first.stderr
    missing = runner.invoke(app, ["clip", "--merge", out])
    assert missing.exit_code == 2 and "1 of 2 clip tasks have not finished (--shard 1/2)" in missing.stderr
    env = {"JOB_COMPLETION_INDEX": "1"}
    second = runner.invoke(app, [*args, "--shard", "auto/2", "--json"], env=env)
    assert second.exit_code == 0, second.output
    assert json.loads(second.stdout)["shards"] == ["shard-00002.npy", "shard-00003.npy", "shard-00004.npy"]
    merged = runner.invoke(app, ["clip", "--merge", out, "--json"])
    assert merged.exit_code == 0 and json.loads(merged.stdout)["count"] == 40
    both = runner.invoke(app, ["clip", str(data), "--merge", out])
    assert both.exit_code == 2 and "--merge OUT takes no DATA" in both.stderr
    nothing = runner.invoke(app, ["clip", "-o", out])
    assert nothing.exit_code == 2 and "give DATA, -o OUT and -n COUNT" in nothing.stderr
