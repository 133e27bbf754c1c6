"""`framepred demo --model videogan`: data, training, scores beside copy-last, the GIF grid."""

import json

import pytest
from typer.testing import CliRunner

from framepred.cli.app import app
from framepred.io.video import read_video

runner = CliRunner()


@pytest.mark.slow  # about 20 s on an idle 2-core machine
def test_demo_writes_everything(tmp_path):
    result = runner.invoke(
        app, ["demo", "--model", "videogan", "-o", str(tmp_path), "--steps", "2", "--json"]
    )
    assert result.exit_code == 0, result.output
    scores = json.loads(result.stdout)
    assert set(scores) == {"model", "copy-last", "per_step_psnr", "copy_last_per_step_psnr"}
    assert 10 < scores["copy-last"]["psnr"] < 60
    assert "t+31" in result.output  # the per-step table beside copy-last
    summary = json.loads((tmp_path / "results.json").read_text())
    assert len(summary["per_step_psnr"]) == len(summary["copy_last_per_step_psnr"]) == 31
    futures = read_video(tmp_path / "futures.gif")
    assert len(futures) == 32
    # 4 test videos x (input | generated | real | mask), 64 pixels, 4-pixel gaps, enlarged twice
    assert futures[0].shape == (2 * (4 * 64 + 3 * 4), 2 * (4 * 64 + 3 * 4), 3)
    assert len(list((tmp_path / "data" / "train").iterdir())) == 48
