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
    assert set(scores) == {"model", "copy-last", "linear", "per_step_psnr"}
    assert set(scores["model"]) == set(scores["copy-last"]) == set(scores["linear"]) == {"psnr", "ssim"}
    assert 10 < scores["copy-last"]["psnr"] < 60
    # t+1 .. t+5 for the model and both baselines; t+1 of the rollout is the next-frame score
    assert set(scores["per_step_psnr"]) == {"dmvfn", "copy-last", "linear"}
    assert list(scores["per_step_psnr"]["linear"]) == [f"t+{k}" for k in range(1, 6)]
    assert "PSNR (dB) per step" in result.output
    linear_t1 = scores["per_step_psnr"]["linear"]["t+1"]  # a titled table prints dB with two decimals
    assert f"{linear_t1:.2f}" in result.output and f"{linear_t1:.4f}" not in result.output
    for name in ("rollout.gif", "results.json", "data/manifest.json", "run/metrics.csv", "run/results.png"):
        assert (tmp_path / name).is_file(), name
    assert (tmp_path / "rollout.gif").read_bytes()[:6] in (b"GIF89a", b"GIF87a")
    from framepred.io.video import read_video

    frames = read_video(tmp_path / "rollout.gif")
    assert len(frames) == 12  # two context frames, then ten predictions
    assert frames[0].shape[1] > 3 * frames[0].shape[0]  # prediction | truth | error, side by side


@pytest.mark.slow
def test_default_demo_beats_copy_last(tmp_path):
    result = runner.invoke(app, ["demo", "-o", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    scores = json.loads(result.stdout)
    assert scores["model"]["psnr"] > scores["copy-last"]["psnr"] + 0.3
    assert scores["model"]["ssim"] > scores["copy-last"]["ssim"]
