"""Sharpness difference and the moving-area mask against independent NumPy implementations of
Mathieu et al.'s evaluation code (image_error_measures.lua and the test script's masking)."""

import json

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from framepred.cli.app import app
from framepred.data.tree import SequenceWriter
from framepred.errors import DataError, UsageError
from framepred.metrics import MetricSuite, psnr, ssim
from framepred.metrics.sharpness import keep_moving, moving_mask, scored_frames, sharpness_difference
from tests.metrics.metrics_helpers import noisy_pair, real_pairs


def official_sharpness(pred01: np.ndarray, true01: np.ndarray) -> float:
    """The Lua function step by step, on one C x H x W frame: [-1, 1] values, shifted copies with a
    zero row/column, interior rows/columns 2..s-1 (1-based), sum, x 128^2 / (C H W), eps, dB."""
    pred, true = pred01 * 2.0 - 1.0, true01 * 2.0 - 1.0
    channels, height, width = pred.shape

    def shifted(image, axis):  # SpatialZeroPadding(1, -1, 0, 0) along W, (0, 0, 1, -1) along H
        out = np.zeros_like(image)
        if axis == 2:
            out[:, :, 1:] = image[:, :, :-1]
        else:
            out[:, 1:, :] = image[:, :-1, :]
        return out

    total = 0.0
    for axis in (2, 1):
        gp = np.abs(shifted(pred, axis) - pred)[:, 1 : height - 1, 1 : width - 1]
        gt = np.abs(shifted(true, axis) - true)[:, 1 : height - 1, 1 : width - 1]
        total += np.abs(gp - gt).sum()
    error = 128 * 128 * total / (channels * height * width)
    error = error if error > 1e-4 else 1e-4
    return 10 * np.log10(255 * 255 / error)


def test_matches_the_official_definition_on_random_and_real_frames():
    pred, gt = noisy_pair((3, 3, 23, 31), noise=0.05)
    values = sharpness_difference(pred, gt)
    assert values.dtype == torch.float64 and values.shape == (3,)
    for k in range(3):
        assert values[k].item() == pytest.approx(
            official_sharpness(pred[k].double().numpy(), gt[k].double().numpy()), abs=1e-9
        )
    later, first = real_pairs("sintel_raft_demo", count=1)
    value = sharpness_difference(first, later).item()
    assert value == pytest.approx(
        official_sharpness(first[0].double().numpy(), later[0].double().numpy()), abs=1e-9
    )


def test_identical_frames_give_the_floor_and_blur_scores_lower():
    gt = torch.rand(1, 3, 16, 16, generator=torch.Generator().manual_seed(1))
    assert sharpness_difference(gt, gt).item() == pytest.approx(10 * np.log10(255**2 / 1e-4))
    blurred = torch.nn.functional.avg_pool2d(gt, 3, stride=1, padding=1, count_include_pad=False)
    slightly = 0.8 * gt + 0.2 * blurred
    assert sharpness_difference(blurred, gt) < sharpness_difference(slightly, gt)
    with pytest.raises(DataError, match="at least 3x3"):
        sharpness_difference(torch.rand(1, 3, 2, 8), torch.rand(1, 3, 2, 8))


def test_moving_mask_and_the_official_fill_rule():
    rng = np.random.default_rng(0)
    previous = rng.uniform(0, 1, (2, 3, 12, 14))
    target = previous.copy()
    target[0, 1, 2:5, 3:9] += 0.2  # moves in one channel
    target[0, :, 8, 8] += 0.04  # below the threshold
    mask = moving_mask(torch.from_numpy(previous), torch.from_numpy(target), threshold=0.05)
    expected = np.abs(target - previous).max(axis=1, keepdims=True) > 0.05
    assert mask.shape == (2, 1, 12, 14) and np.array_equal(mask.numpy(), expected)
    grown = moving_mask(torch.from_numpy(previous), torch.from_numpy(target), 0.05, dilation=1)
    assert grown[0, 0, 1:6, 2:10].all() and grown.sum() == 5 * 8
    filled = keep_moving(torch.from_numpy(target), mask).numpy()
    assert np.array_equal(filled, np.where(expected, target, 0.0))
    assert scored_frames(mask).tolist() == [True, False]  # the second frame has no moving pixel


def test_suite_scores_moving_pixels_only_and_skips_static_frames():
    previous, gt = noisy_pair((3, 3, 40, 44), noise=0.3, seed=2)
    gt[2] = previous[2]  # nothing moves in the third frame
    pred = (gt + 0.05 * torch.randn(gt.shape, generator=torch.Generator().manual_seed(3))).clamp(0, 1)
    with pytest.raises(UsageError, match="LPIPS cannot score moving pixels only"):
        MetricSuite("psnr,lpips", moving_mask=0.1)  # asked for by name: an error, not a note
    suite = MetricSuite("psnr,ssim,sharpness", moving_mask=0.1)
    values = suite.compute(pred, gt, previous)
    mask = (gt - previous).abs().amax(1, keepdim=True) > 0.1
    fill = lambda x: torch.where(mask, x, torch.zeros(()))[:2]  # noqa: E731
    assert torch.allclose(values["psnr"], psnr(fill(pred), fill(gt)))
    assert torch.allclose(values["ssim"], ssim(fill(pred), fill(gt)))
    assert torch.allclose(values["sharpness"], sharpness_difference(fill(pred), fill(gt)))
    assert set(values) == {"psnr", "ssim", "sharpness"}
    assert "lpips" in MetricSuite(None, moving_mask=0.1).notes  # the default set: left out, with a note
    settings = suite.settings()["moving_mask"]
    assert settings["threshold"] == 0.1 and settings["frames_not_scored"] == 1
    with pytest.raises(UsageError, match="true frame before each target"):
        suite.compute(pred, gt)
    with pytest.raises(UsageError, match="threshold in"):
        MetricSuite("psnr", moving_mask=1.5)


def test_unmasked_suite_reports_sharpness_beside_the_others():
    pred, gt = noisy_pair((2, 3, 24, 24), noise=0.1)
    values = MetricSuite("psnr,sharpdiff").compute(pred, gt)
    assert set(values) == {"psnr", "sharpness"}
    assert torch.allclose(values["sharpness"], sharpness_difference(pred, gt))


@pytest.fixture
def moving_tree(tmp_path):
    rng = np.random.default_rng(0)
    root = tmp_path / "tree"
    with SequenceWriter(root, "test", "seq") as writer:
        background = rng.integers(0, 120, (40, 48, 3))
        for i in range(8):
            frame = background.copy()
            frame[10:20, 4 + 3 * i : 14 + 3 * i] = 230
            writer.write(frame.astype(np.uint8))
    return root


def test_evaluate_reports_sharpness_and_the_moving_area_scores(moving_tree, tmp_path):
    base = ["evaluate", "--data", str(moving_tree), "--model", "linear", "--baseline", "copy-last"]
    base += ["--protocol", "next", "--steps", "2", "--metrics", "psnr,ssim,sharpness", "--device", "cpu"]
    whole = CliRunner().invoke(app, [*base, "--json"])
    assert whole.exit_code == 0, whole.output
    masked = CliRunner().invoke(app, [*base, "--moving-mask", "0.05", "--json"])
    assert masked.exit_code == 0, masked.output
    whole, masked = json.loads(whole.stdout), json.loads(masked.stdout)
    assert "Sharp. diff" in CliRunner().invoke(app, base).stderr
    assert masked["settings"]["metric_settings"]["moving_mask"]["threshold"] == 0.05
    # Static pixels count as perfect under the authors' rule: masked scores are higher.
    for run in (whole, *whole["baselines"].values()):
        assert run["mean"]["sharpness"] is not None
    assert masked["baselines"]["copy-last"]["mean"]["psnr"] > whole["baselines"]["copy-last"]["mean"]["psnr"]


def test_moving_mask_needs_a_tree(tmp_path):
    for folder in ("pred", "gt"):
        (tmp_path / folder).mkdir()
    result = CliRunner().invoke(
        app,
        ["evaluate", "--pred", str(tmp_path / "pred"), "--gt", str(tmp_path / "gt"), "--moving-mask", "0.1"],
    )
    assert result.exit_code == 2 and "--moving-mask cannot be combined with --pred/--gt" in result.stderr
