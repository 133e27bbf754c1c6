import importlib

import numpy as np
import pytest
import torch
from pytorch_msssim import ms_ssim as reference_ms_ssim
from pytorch_msssim import ssim as reference_ssim
from skimage.metrics import structural_similarity

from framepred.errors import DataError
from framepred.metrics import MS_SSIM_MIN_SIDE, ms_ssim, ssim, ssim_and_ms_ssim
from tests.metrics.metrics_helpers import noisy_pair, real_pairs


def skimage_wang(pred: torch.Tensor, gt: torch.Tensor) -> list[float]:
    """skimage SSIM with the Wang et al. settings (Gaussian 1.5, population covariance), per frame."""
    return [
        structural_similarity(
            gt[i].double().numpy(),
            pred[i].double().numpy(),
            channel_axis=0,
            gaussian_weights=True,
            sigma=1.5,
            use_sample_covariance=False,
            data_range=1.0,
        )
        for i in range(pred.shape[0])
    ]


@pytest.mark.parametrize("shape", [(3, 3, 32, 48), (2, 3, 45, 61), (1, 1, 11, 11)])
def test_ssim_matches_pytorch_msssim_and_skimage(shape: tuple[int, ...]) -> None:
    pred, gt = noisy_pair(shape, noise=0.2)
    ours = ssim(pred, gt)
    assert ours.shape == (shape[0],) and ours.dtype == torch.float64
    expected = reference_ssim(gt, pred, data_range=1.0, size_average=False).double()
    assert torch.allclose(ours, expected, rtol=0, atol=1e-5)
    assert np.allclose(ours.numpy(), skimage_wang(pred, gt), rtol=0, atol=1e-5)


@pytest.mark.parametrize("shape", [(2, 3, 161, 161), (2, 3, 171, 203)])
def test_ms_ssim_matches_pytorch_msssim(shape: tuple[int, ...]) -> None:
    # 171 x 203 has odd sizes at several scales, exercising the padded 2x2 pooling.
    pred, gt = noisy_pair(shape, noise=0.15, seed=3)
    ours = ms_ssim(pred, gt)
    expected = reference_ms_ssim(gt, pred, data_range=1.0, size_average=False).double()
    assert torch.allclose(ours, expected, rtol=0, atol=1e-5)


def test_shared_computation_equals_separate_calls() -> None:
    pred, gt = noisy_pair((2, 3, 170, 180), noise=0.1, seed=5)
    both_ssim, both_ms = ssim_and_ms_ssim(pred, gt)
    assert torch.equal(both_ssim, ssim(pred, gt))
    assert torch.equal(both_ms, ms_ssim(pred, gt))


def test_real_frames_match_references() -> None:
    pred, gt = real_pairs("hk_street_tram_realbasicvsr")
    ours_ssim, ours_ms = ssim_and_ms_ssim(pred, gt)
    ref_ssim = reference_ssim(gt, pred, data_range=1.0, size_average=False).double()
    ref_ms = reference_ms_ssim(gt, pred, data_range=1.0, size_average=False).double()
    assert torch.allclose(ours_ssim, ref_ssim, rtol=0, atol=1e-5)
    assert torch.allclose(ours_ms, ref_ms, rtol=0, atol=1e-5)
    assert np.allclose(ours_ssim.numpy(), skimage_wang(pred, gt), rtol=0, atol=1e-5)


def test_identical_frames_score_one() -> None:
    frame = torch.rand(2, 3, 170, 170)
    assert torch.allclose(ssim(frame, frame), torch.ones(2, dtype=torch.float64), atol=1e-6)
    assert torch.allclose(ms_ssim(frame, frame), torch.ones(2, dtype=torch.float64), atol=1e-6)


def test_ms_ssim_size_limit_is_161() -> None:
    assert MS_SSIM_MIN_SIDE == 161
    pred, gt = noisy_pair((1, 3, 161, 300))
    assert ms_ssim(pred, gt).shape == (1,)
    with pytest.raises(DataError, match="MS-SSIM needs .* at least 161 px, got 160x300"):
        ms_ssim(pred[..., :160, :], gt[..., :160, :])


def test_tiny_frames_raise_clear_error() -> None:
    with pytest.raises(DataError, match="SSIM needs .* at least 11 px, got 8x8"):
        ssim(torch.rand(1, 3, 8, 8), torch.rand(1, 3, 8, 8))


def test_mismatched_sizes_raise_clear_error() -> None:
    with pytest.raises(DataError, match="differ in size"):
        ssim(torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 31))


@pytest.mark.parametrize("strip_rows", [1, 7, 64])
def test_strips_of_rows_give_the_whole_frame_values(monkeypatch, strip_rows: int) -> None:
    # Frames are scored in strips of map rows (to stay in cache); any strip height gives the same
    # numbers as one whole-frame pass (a strip taller than the map) and matches pytorch_msssim.
    pred, gt = noisy_pair((2, 3, 171, 203), noise=0.15, seed=7)
    whole_ssim, whole_ms = ssim_and_ms_ssim(pred, gt)
    module = importlib.import_module("framepred.metrics.ssim")  # the package re-exports a function ssim
    monkeypatch.setattr(module, "STRIP_PIXELS", strip_rows * 203)
    strip_ssim, strip_ms = ssim_and_ms_ssim(pred, gt)
    assert torch.equal(strip_ssim, whole_ssim) and torch.equal(strip_ms, whole_ms)
    expected = reference_ms_ssim(gt, pred, data_range=1.0, size_average=False).double()
    assert torch.allclose(strip_ms, expected, rtol=0, atol=1e-5)
