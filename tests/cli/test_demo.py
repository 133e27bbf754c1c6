import json

import pytest
from typer.testing import CliRunner

from framepred.cli.app import app

runner = CliRunner()


@pytest.mark.slow  # about 10 s on an idle 2-core machine (data, training, evaluation, GIF)
def test_demo_writes_everything_and_prints_json(tmp_path):
    result = runner.invoke(app, ["demo", "-o", str(tmp_path), "--steps", "3", "--json"])
    assert result.exit_code == 0, result.output
    scores = json.loads(result.stdout)
    assert set(scores) == {"model", "copy-last"}
    assert set(scores["model"]) == set(scores["copy-last"]) == {"psnr", "ssim"}
    assert 10 < scores["copy-last"]["psnr"] < 60
    for name in ("rollout.gif", "results.json", "data/manifest.json", "run/metrics.csv", "run/results.png"):
        assert (tmp_path / name).is_file(), name
    assert (tmp_path / "rollout.gif").read_bytes()[:6] in (b"GIF89a", b"GIF87a")


@pytest.mark.slow
def test_default_demo_beats_copy_last(tmp_path):
    result = runner.invoke(app, ["demo", "-o", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    scores = json.loads(result.stdout)
    assert scores["model"]["psnr"] > scores["copy-last"]["psnr"] + 0.3
    assert scores["model"]["ssim"] > scores["copy-last"]["ssim"]
