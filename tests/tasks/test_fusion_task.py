"""The fusion recipe through the command line: its data and option checks, stages trained one by one
into one run directory, and the result used by rollout (--compare with the fusion streams) and
evaluate (beside copy-last and the no-motion baseline)."""

from __future__ import annotations

import json

import pytest
import torch
from typer.testing import CliRunner

from framepred.cli.app import app
from framepred.data.prepare.fusion import prepare_fusion
from framepred.io.video import VideoReader
from framepred.losses.gradient_difference import gradient_difference_loss
from framepred.losses.pixel import gaussian_blur
from framepred.models import load_model
from framepred.tasks.base import Nets
from framepred.tasks.fusion import FusionTask, FusionTaskOptions
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
        (["--unet-loss", "huber"], "--unet-loss 'huber': choose one of l1-ssim, mse"),
        (["--translator-predicted", "1.5"], "--translator-predicted is a share from 0 to 1, got 1.5"),
        (["--unet-residual-blur", "-1"], "--unet-residual-blur must be at least 0 (0: off)"),
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


def test_translator_on_predicted_fusion_needs_a_trained_unet(trees, tmp_path):
    # Which stages a run holds is known once its weights are loaded: the error comes at the first step,
    # before any update, after the stage's opening lines.
    result = _train(trees[1], tmp_path / "run", "--stage", "translator", "--translator-predicted", "0.5")
    assert result.exit_code == 2, result.output
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: --translator-predicted needs a trained U-Net") and "--stage unet" in last


def test_translator_on_predicted_fusion_trains_after_the_unet(trees, tmp_path):
    run = tmp_path / "run"
    assert _train(trees[1], run, "--stage", "unet", "--unet-loss", "mse").exit_code == 0
    result = _train(trees[1], run, "--stage", "translator", "--translator-predicted", "0.5")
    assert result.exit_code == 0, result.output
    weights = run / "checkpoints" / "last" / "model.safetensors"
    assert load_model(weights).model.stages_trained() == ["unet", "translator"]


def _task(**options) -> tuple[FusionTask, Nets]:
    tiny = {**FusionTask.tiny_options(), "crop": None, **options}
    task = FusionTask(FusionTaskOptions(**tiny))
    task.stage = "translator"
    model = task.build_networks()["model"].eval()
    model.trained[0] = 1  # as if the unet stage had run
    return task, Nets(model=model)


def test_translator_pairs_take_the_unets_fusion_images_at_share_one():
    task, nets = _task(translator_predicted=1.0)
    assert task.data().clip_frames == 8 and task.data().with_source_frames
    items = torch.rand(2, 16, 3, 16, 16)  # 4 + 4 fusion images, then their 8 frames
    fusion, frames = task.translator_pairs(nets, items, step=3)
    with torch.no_grad():
        predicted = nets.model.predict_fusion(items[:, :4])
    assert torch.equal(fusion, predicted.flatten(0, 1))
    assert torch.equal(frames, items[:, 12:].flatten(0, 1))
    assert task.translator_pairs(nets, items, step=3)[0] is fusion  # the discriminator's pairs, reused


def test_translator_pairs_at_share_zero_are_the_real_pairs():
    task, nets = _task()
    assert task.data().clip_frames == 1
    items = torch.rand(2, 2, 3, 16, 16)
    fusion, frames = task.translator_pairs(nets, items, step=0)
    assert torch.equal(fusion, items[:, 0]) and torch.equal(frames, items[:, 1])


def test_mse_unet_loss_is_the_mean_squared_error():
    task, nets = _task(unet_loss="mse")
    clips = torch.rand(2, 8, 3, 16, 16)
    loss, terms = task.unet_loss(nets, clips, step=0)
    with torch.no_grad():
        expected = (nets.model(clips[:, :4], "unet") - clips[:, 4:]).square().mean()
    assert torch.allclose(loss, expected) and set(terms) == {"l1", "ssim"}


def test_the_unet_loss_options_add_gdl_and_the_blurred_error():
    clips = torch.rand(2, 8, 3, 16, 16)
    plain_task, plain_nets = _task(unet_loss="mse")
    plain, plain_terms = plain_task.unet_loss(plain_nets, clips, step=0)
    assert set(plain_terms) == {"l1", "ssim"}
    task, nets = _task(unet_loss="mse", unet_gdl_weight=0.5, unet_blur_sigma=1.0)
    loss, terms = task.unet_loss(nets, clips, step=0)
    with torch.no_grad():
        prediction = nets.model(clips[:, :4], "unet").flatten(0, 1)
    target = clips[:, 4:].flatten(0, 1)
    gdl = gradient_difference_loss(prediction, target)
    blurred = (gaussian_blur(prediction, 1.0) - gaussian_blur(target, 1.0)).square().mean()
    assert terms["gdl"] == pytest.approx(float(gdl), rel=1e-5) and float(gdl) > 0
    assert terms["blurred"] == pytest.approx(float(blurred), rel=1e-5) and float(blurred) > 0
    expected = float(plain.detach()) + 0.5 * float(gdl) + float(blurred)
    assert float(loss.detach()) == pytest.approx(expected, rel=1e-5)
    task.stage = "unet"
    assert task.phases()[0].terms == ("l1", "ssim", "gdl", "blurred")


def test_the_blurred_error_falls_as_a_thin_edge_nears_its_place():
    # Plain MSE cannot tell a thin line one pixel off from one four pixels off (neither overlaps the
    # target); the blurred error can, which is the gradient at a distance the option is for.
    def line(column: int) -> torch.Tensor:
        image = torch.zeros(1, 1, 24, 24)
        image[..., column] = 1.0
        return image

    target = line(10)
    mse = [float((line(c) - target).square().mean()) for c in (11, 14)]
    assert mse[0] == pytest.approx(mse[1])
    blurred = [float(gaussian_blur(line(c) - target, 2.0).square().mean()) for c in (11, 12, 14)]
    assert blurred[0] < blurred[1] < blurred[2]


def test_the_unet_trains_with_gdl_and_the_blurred_error(trees, tmp_path):
    run = tmp_path / "run"
    options = ["--unet-loss", "mse", "--unet-gdl-weight", "1", "--unet-blur-sigma", "2"]
    result = _train(trees[1], run, "--stage", "unet", *options)
    assert result.exit_code == 0, result.output
    header = (run / "stages" / "unet" / "metrics.csv").read_text().splitlines()[0].split(",")
    assert {"gdl", "blurred"} <= set(header)
