"""`framepred predict`: pairs, folders, and every error ending in one line and exit code 2."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from framepred.cli.app import app
from framepred.io.images import read_image, write_image
from framepred.models import create_model
from tests.helpers import one_line_error

runner = CliRunner()


def write_frames(folder: Path, count: int, height: int = 30, width: int = 45) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    paths = []
    for index in range(count):
        path = folder / f"{index:06d}.png"
        write_image(path, rng.integers(0, 256, (height, width, 3), dtype=np.uint8))
        paths.append(path)
    return paths


@pytest.fixture(scope="module")
def official(tmp_path_factory) -> Path:
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("weights") / "dmvfn_city.pkl"
    torch.save({"module." + k: v for k, v in create_model("dmvfn").state_dict().items()}, path)
    return path


def test_predict_a_pair_with_an_official_checkpoint(tmp_path, official) -> None:
    first, second = write_frames(tmp_path / "in", 2)
    out = tmp_path / "pred.png"
    result = runner.invoke(
        app,
        ["predict", str(first), str(second), "-o", str(out), "--weights", str(official), "--device", "cpu"],
    )
    assert result.exit_code == 0, result.output
    assert read_image(out).shape == (30, 45, 3)  # odd size padded to /16 and cropped back


def test_predict_every_pair_of_a_folder(tmp_path) -> None:
    frames = write_frames(tmp_path / "in", 4)
    out = tmp_path / "preds"
    result = runner.invoke(
        app,
        ["predict", "--input-dir", str(tmp_path / "in"), "-o", str(out), "--model", "copy-last", "--json"],
    )
    assert result.exit_code == 0, result.output
    records = json.loads(result.stdout)
    assert [Path(r["output"]).name for r in records] == ["000002.png", "000003.png", "000004.png"]
    # copy-last: the prediction for frame k is frame k - 1
    for record, source in zip(records, frames[1:]):
        np.testing.assert_array_equal(read_image(record["output"]), read_image(source))


def test_missing_image(tmp_path) -> None:
    (first,) = write_frames(tmp_path, 1)
    result = runner.invoke(
        app,
        [
            "predict",
            str(first),
            str(tmp_path / "gone.png"),
            "-o",
            str(tmp_path / "p.png"),
            "--model",
            "copy-last",
        ],
    )
    one_line_error(result, "gone.png")


def test_missing_checkpoint(tmp_path) -> None:
    first, second = write_frames(tmp_path, 2)
    result = runner.invoke(
        app,
        [
            "predict",
            str(first),
            str(second),
            "-o",
            str(tmp_path / "p.png"),
            "--weights",
            str(tmp_path / "w.pkl"),
        ],
    )
    one_line_error(result, "w.pkl", "does not exist")


@pytest.mark.parametrize("content", [b"not a checkpoint at all", None], ids=["garbage", "truncated"])
def test_corrupt_checkpoint(tmp_path, official, content) -> None:
    first, second = write_frames(tmp_path, 2)
    bad = tmp_path / "bad.pkl"
    bad.write_bytes(content if content is not None else official.read_bytes()[:100_000])
    result = runner.invoke(
        app, ["predict", str(first), str(second), "-o", str(tmp_path / "p.png"), "-w", str(bad)]
    )
    one_line_error(result, "bad.pkl")
    assert not (tmp_path / "p.png").exists()


class _CreatesFile:
    """Unpickling this calls ``open(path, "w")``: the file appears only if loading runs code."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self):
        return (open, (str(self.path), "w"))


def test_malicious_checkpoint_runs_nothing(tmp_path) -> None:
    first, second = write_frames(tmp_path, 2)
    marker = tmp_path / "created-by-pickle"
    evil = tmp_path / "evil.pkl"
    evil.write_bytes(pickle.dumps(_CreatesFile(marker)))
    result = runner.invoke(
        app, ["predict", str(first), str(second), "-o", str(tmp_path / "p.png"), "-w", str(evil)]
    )
    one_line_error(result, "evil.pkl")
    assert not marker.exists()


def test_frames_of_different_sizes(tmp_path) -> None:
    (first,) = write_frames(tmp_path / "a", 1, 30, 45)
    (second,) = write_frames(tmp_path / "b", 1, 32, 48)
    result = runner.invoke(
        app, ["predict", str(first), str(second), "-o", str(tmp_path / "p.png"), "--model", "linear"]
    )
    one_line_error(result, "differ in size")


def test_options_that_do_not_fit(tmp_path, official) -> None:
    first, second = write_frames(tmp_path, 2)
    out = str(tmp_path / "p.png")
    both = ["predict", str(first), str(second), "-o", out, "-w", str(official), "--model", "linear"]
    one_line_error(runner.invoke(app, both), "--weights", "not both")
    one_line_error(
        runner.invoke(
            app, ["predict", str(first), str(second), "-o", out, "-w", str(official), "--routing", "maybe"]
        ),
        "routing",
    )
    one_line_error(
        runner.invoke(
            app, ["predict", str(first), str(second), "-o", out, "--model", "linear", "--device", "tpu"]
        ),
        "device",
    )
    one_line_error(
        runner.invoke(app, ["predict", str(first), "-o", out, "--model", "linear"]),
        "reads 2 context frames: give 2 images",
    )
