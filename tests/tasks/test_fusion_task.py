"""The fusion recipe through the command line: its data and option checks, stages trained one by one
into one run directory, and the result used by rollout (--compare with the fusion streams) and
evaluate (beside copy-last and the no-motion baseline)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from framepred.cli.app import app
from framepred.data.prepare.fusion import prepare_fusion
from framepred.io.video import VideoReader
from framepred.models import load_model
from tests.engine.engine_helpers import moving_squares_tree

runner = CliRunner()
TINY = [
    "--context", "4", "--horizon", "4", "--crop", "64", "--unet-base", "4", "--unet-levels", "2",
    "--translator-base", "8", "--translator-levels", "3", "--discriminator-base", "8",
    "--sharpener-base", "8",
]  # fmt: skip


@pytest.fixture(scope="module")
def trees(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fusion")
    frames = moving_squares_tree(folder / "frames", sequences=3, frames=12, size=64)
    prepare_fusion(frames, folder / "fusion")
    return frames, folder / "fusion"


def _train(data, run_dir, *extra):
    command = ["train", "fusion", "--data", str(data), "--run-dir", str(run_dir), "--steps", "2",
               "--batch-size", "2", "--device", "cpu", "--val-samples", "2", *TINY, *extra]  # fmt: skip
    return runner.invoke(app, command)


def one_line_error(result, *fragments: str) -> None:
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def test_a_plain_frame_tree_is_refused_naming_prepare_fusion(trees, tmp_path):
    frames, _ = trees
    result = _train(frames, tmp_path / "run")
    one_line_error(result, "not fusion images", f"framepred prepare fusion {frames} -o FUSION_TREE")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--crop", "60"], "--crop 60: the fusion model needs a multiple of 8"),
        (["--upscale-factor", "1"], "--upscale-factor is 0 (no sharpener) or at least 2"),
        (["--adversarial", "wgan"], "unknown adversarial loss 'wgan'"),
        (["--stage", "colour"], "has no stage 'colour': choose one of unet, translator, sharpen or all"),
    ],
)
def test_bad_options_are_refused_before_training(trees, tmp_path, extra, message):
    result = _train(trees[1], tmp_path / "run", *extra)
    one_line_error(result, message)
    assert not (tmp_path / "run" / "stages").exists()


def test_all_stages_without_a_sharpener_fail_before_the_first_trains(trees, tmp_path):
    result = _train(trees[1], tmp_path / "run", "--upscale-factor", "0")
    one_line_error(result, "the sharpen stage needs --upscale-factor 2 or more")
    assert not (tmp_path / "run" / "stages").exists()


def test_stages_one_by_one_then_rollout_and_evaluate(trees, tmp_path):
    frames, fusion = trees
    run = tmp_path / "run"
    weights = run / "checkpoints" / "last" / "model.safetensors"
    assert _train(fusion, run, "--stage", "unet").exit_code == 0
    assert load_model(weights).model.stages_trained() == ["unet"]
    sequence = frames / "val" / "val0"
    rollout = ["rollout", str(sequence), "--start", "4", "--steps", "6", "--weights", str(weights),
               "--device", "cpu", "-o", str(tmp_path / "future.mp4")]  # fmt: skip
    one_line_error(runner.invoke(app, rollout), "not the translator stage", "--stage translator")

    assert _train(fusion, run, "--stage", "translator").exit_code == 0
    assert load_model(weights).model.stages_trained() == ["unet", "translator"]
    assert sorted(p.name for p in (run / "stages").iterdir()) == ["translator", "unet"]
    # 4 frames in, 4 out per call: 6 steps take two calls; --compare adds the fusion streams.
    result = runner.invoke(app, [*rollout, "--compare", str(sequence)])
    assert result.exit_code == 0, result.output
    with VideoReader(tmp_path / "future_compare.mp4") as reader:
        panels = list(reader)
    assert len(panels) == 6 and panels[0].shape[1] == 5 * 64  # context, fusion in, fusion out, frame, truth

    evaluate = ["evaluate", "--data", str(frames), "--split", "val", "--weights", str(weights), "--protocol",
                "next", "--steps", "6", "--metrics", "psnr,ssim", "--baseline", "copy-last", "--baseline",
                "no-motion", "--device", "cpu", "--json"]  # fmt: skip
    result = runner.invoke(app, evaluate)
    assert result.exit_code == 0, result.output
    scores = json.loads(result.stdout)
    assert set(scores["baselines"]) == {"copy-last", "no-motion"}
    assert [row["step"] for row in scores["per_step"]] == [1, 2, 3, 4, 5, 6]


def test_the_translator_alone_validates_without_motion(trees, tmp_path):
    result = _train(trees[1], tmp_path / "run", "--stage", "translator")
    assert result.exit_code == 0, result.output
    assert "the U-Net is not trained yet" in result.stderr
