"""``framepred demo --model msgan``: what it writes, and that its default run beats copy-last."""

import json

import pytest
from typer.testing import CliRunner

from framepred.cli.app import app

runner = CliRunner()


@pytest.mark.slow  # data, clips, a few training rounds, evaluation, GIF
def test_demo_writes_everything_and_prints_json(tmp_path):
    result = runner.invoke(app, ["demo", "--model", "msgan", "-o", str(tmp_path), "--steps", "4", "--json"])
    assert result.exit_code == 0, result.output
    scores = json.loads(result.stdout)
    assert set(scores) == {"model", "copy-last", "linear"}
    assert set(scores["model"]) == {"psnr", "ssim", "sharpness"}
    for name in ("rollout.gif", "results.json", "clips/manifest.json", "run/metrics.csv"):
        assert (tmp_path / name).is_file(), name
    assert (tmp_path / "rollout.gif").read_bytes()[:6] in (b"GIF89a", b"GIF87a")


@pytest.mark.slow  # the default demo: a few minutes on two cores
def test_default_demo_beats_copy_last(tmp_path):
    result = runner.invoke(app, ["demo", "--model", "msgan", "-o", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    scores = json.loads(result.stdout)
    assert scores["model"]["psnr"] > scores["copy-last"]["psnr"] + 1.0
    assert scores["model"]["ssim"] > scores["copy-last"]["ssim"]
