"""`framepred weights list|download|path`, named weights in predict/rollout/evaluate/convert, and the
default weights of predict on a machine without network."""

from __future__ import annotations

import io
import json
import socket
import sys

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from framepred.cli.app import app
from framepred.io.images import read_image, write_image
from framepred.models import create_model
from tests.helpers import one_line_error
from tests.io.weights_server import weights_server

runner = CliRunner()


@pytest.fixture(scope="module")
def mirror():
    torch.manual_seed(0)
    buffer = io.BytesIO()
    torch.save({"module." + k: v for k, v in create_model("dmvfn").state_dict().items()}, buffer)
    with weights_server({"dmvfn_city.pkl": buffer.getvalue()}) as site:
        yield site


@pytest.fixture
def frames(tmp_path):
    rng = np.random.default_rng(0)
    paths = []
    for index in range(2):
        path = tmp_path / f"f{index}.png"
        write_image(path, rng.integers(0, 256, (40, 56, 3), dtype=np.uint8))
        paths.append(path)
    return paths


def test_list_shows_every_name_with_its_state(private_framepred_home) -> None:
    result = runner.invoke(app, ["weights", "list", "--json"])
    assert result.exit_code == 0, result.output
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert set(rows) == {"dmvfn-city", "dmvfn-kitti", "dmvfn-vimeo", "framepred-dmvfn-small"}
    assert not rows["dmvfn-city"]["cached"] and rows["dmvfn-city"]["sha256"] is None
    assert rows["dmvfn-city"]["path"] == str(private_framepred_home / "weights" / "dmvfn_city.pkl")
    assert rows["framepred-dmvfn-small"]["cached"] and len(rows["framepred-dmvfn-small"]["sha256"]) == 64
    table = runner.invoke(app, ["weights", "list"])
    assert table.exit_code == 0 and "dmvfn-vimeo" in table.stderr


def test_download_then_path_then_list(monkeypatch, mirror) -> None:
    monkeypatch.setenv("FRAMEPRED_WEIGHTS_URL", mirror.base + "/files")
    result = runner.invoke(app, ["weights", "download", "dmvfn-city", "--json"])
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.stdout)
    assert row["cached"] and row["size"] > 10_000_000
    path = runner.invoke(app, ["weights", "path", "dmvfn-city"])
    assert path.exit_code == 0 and path.stdout.strip() == row["path"]
    listed = {r["name"]: r for r in json.loads(runner.invoke(app, ["weights", "list", "--json"]).stdout)}
    assert listed["dmvfn-city"]["sha256"] == row["sha256"]


def test_path_of_a_missing_file_says_where_to_put_it(private_framepred_home) -> None:
    result = runner.invoke(app, ["weights", "path", "dmvfn-kitti", "--json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {
        "name": "dmvfn-kitti",
        "path": str(private_framepred_home / "weights" / "dmvfn_kitti.pkl"),
        "cached": False,
        "sha256": None,
    }


def test_a_failed_download_is_one_line_naming_the_file_and_the_fix(
    monkeypatch, private_framepred_home
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("FRAMEPRED_WEIGHTS_URL", f"http://127.0.0.1:{port}")
    result = runner.invoke(app, ["weights", "download", "dmvfn-city"])
    one_line_error(result, "dmvfn_city.pkl", "cannot reach", "put it at " + str(private_framepred_home))
    one_line_error(runner.invoke(app, ["weights", "download", "nope"]), "nope: not a weights name")


def test_predict_with_no_flags_and_no_network_uses_the_bundled_model(monkeypatch, frames, tmp_path) -> None:
    monkeypatch.setitem(sys.modules, "gdown", None)  # a fresh install: no optional extra
    out = tmp_path / "next.png"
    result = runner.invoke(app, ["predict", str(frames[0]), str(frames[1]), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert read_image(out).shape == (40, 56, 3)
    lines = result.stderr.splitlines()
    assert lines[0].startswith("weights: framepred-dmvfn-small") and "pip install" in lines[0]


def test_predict_and_rollout_take_a_name(monkeypatch, mirror, frames, tmp_path) -> None:
    monkeypatch.setenv("FRAMEPRED_WEIGHTS_URL", mirror.base + "/files")
    out = tmp_path / "next.png"
    args = ["predict", str(frames[0]), str(frames[1]), "-o", str(out), "--weights", "dmvfn-city"]
    assert runner.invoke(app, [*args, "--device", "cpu"]).exit_code == 0
    rolled = runner.invoke(
        app,
        ["rollout", str(frames[0]), str(frames[1]), "-n", "2", "-o", str(tmp_path / "r"), "-w", "dmvfn-city"],
    )
    assert rolled.exit_code == 0, rolled.output
    assert sorted(p.name for p in (tmp_path / "r").iterdir()) == ["000001.png", "000002.png"]


def test_convert_and_evaluate_take_a_name(tmp_path) -> None:
    out = tmp_path / "small.safetensors"
    result = runner.invoke(app, ["convert", "framepred-dmvfn-small", "-o", str(out), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["model"] == "dmvfn"
    tree = tmp_path / "tree" / "test" / "seq"
    tree.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for index in range(9):
        write_image(tree / f"{index:06d}.png", rng.integers(0, 256, (32, 32, 3), dtype=np.uint8))
    scored = runner.invoke(
        app,
        ["evaluate", "--data", str(tmp_path / "tree"), "--weights", "framepred-dmvfn-small",
         "--metrics", "psnr", "--json"],
    )  # fmt: skip
    assert scored.exit_code == 0, scored.output
    assert json.loads(scored.stdout)["count"] == 1


def test_a_misspelt_name_is_one_line(frames, tmp_path) -> None:
    result = runner.invoke(
        app, ["predict", str(frames[0]), str(frames[1]), "-o", str(tmp_path / "x.png"), "-w", "dmvfn-ctiy"]
    )
    one_line_error(result, "dmvfn-ctiy: does not exist, and is not a weights name")
