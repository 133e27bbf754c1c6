"""`framepred predict` with a video model: the future of one image, its streams, samples from noise."""

from __future__ import annotations

import json

import torch
from typer.testing import CliRunner

from framepred.cli.app import app
from framepred.io.video import read_video
from framepred.models import create_model, save_model
from tests.cli.test_predict import one_line_error, write_frames

runner = CliRunner()


def _weights(tmp_path, condition):
    torch.manual_seed(0)
    path = tmp_path / f"videogan-{condition}.safetensors"
    save_model(create_model("videogan", condition=condition, frames=16, width=1 / 16), path)
    return path


def test_future_of_one_image_with_streams(tmp_path):
    (image,) = write_frames(tmp_path / "in", 1)
    out = tmp_path / "future.gif"
    args = ["predict", str(image), "-o", str(out), "--weights", str(_weights(tmp_path, "image"))]
    result = runner.invoke(app, [*args, "--compare", "--fps", "8", "--json", "--device", "cpu"])
    assert result.exit_code == 0, result.output
    (record,) = json.loads(result.stdout)
    assert record["frames"] == 16 and len(read_video(out)) == 16
    assert len(read_video(record["compare"])) == 16


def test_samples_from_noise(tmp_path):
    weights = _weights(tmp_path, "none")
    out = tmp_path / "samples"
    args = ["predict", "--weights", str(weights), "--samples", "2", "--seed", "1", "-o", str(out)]
    result = runner.invoke(app, [*args, "--device", "cpu"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["sample_0001.gif", "sample_0002.gif"]
    one_line_error(runner.invoke(app, [*args, "--device", "cpu"]), "not an empty folder")


def test_image_output_for_a_video_model_is_one_line_error(tmp_path):
    (image,) = write_frames(tmp_path / "in", 1)
    weights = _weights(tmp_path, "image")
    result = runner.invoke(
        app, ["predict", str(image), "-o", str(tmp_path / "p.png"), "--weights", str(weights)]
    )
    one_line_error(result, "p.png", "15 frames at once")
