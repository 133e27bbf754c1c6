import math

import numpy as np
import pytest
import torch
from skimage.metrics import peak_signal_noise_ratio

from framepred.errors import DataError
from framepred.metrics import PSNR_CAP_DB, psnr
from tests.metrics.metrics_helpers import noisy_pair, real_pairs


def test_matches_skimage_per_frame() -> None:
    pred, gt = noisy_pair((4, 3, 24, 40), noise=0.05)
    ours = psnr(pred, gt)
    assert ours.dtype == torch.float64 and ours.shape == (4,)
    for i in range(4):
        expected = peak_signal_noise_ratio(gt[i].double().numpy(), pred[i].double().numpy(), data_range=1.0)
        assert ours[i].item() == pytest.approx(expected, abs=1e-6)


def test_real_frames_match_skimage() -> None:
    pred, gt = real_pairs("hk_street_tram_realbasicvsr")
    ours = psnr(pred, gt)
    for i in range(len(ours)):
        expected = peak_signal_noise_ratio(gt[i].double().numpy(), pred[i].double().numpy(), data_range=1.0)
        assert ours[i].item() == pytest.approx(expected, abs=1e-6)


def test_zero_error_is_capped_not_infinite() -> None:
    frame = torch.rand(2, 3, 8, 8)
    assert psnr(frame, frame).tolist() == [PSNR_CAP_DB, PSNR_CAP_DB]
    assert psnr(frame, frame, max_db=60.0).tolist() == [60.0, 60.0]


def test_data_range_255_and_single_frame() -> None:
    gt = torch.full((3, 4, 4), 100.0)
    pred = gt + 5.0  # MSE = 25
    assert psnr(pred, gt, data_range=255.0).item() == pytest.approx(10 * math.log10(255.0**2 / 25.0))


def test_per_frame_not_pooled() -> None:
    gt = torch.zeros(2, 1, 4, 4)
    pred = torch.stack([torch.full((1, 4, 4), 0.01), torch.full((1, 4, 4), 0.1)])
    values = psnr(pred, gt)
    assert values.tolist() == pytest.approx([40.0, 20.0])
    pooled = 10 * np.log10(1.0 / ((0.01**2 + 0.1**2) / 2))
    assert values.mean().item() != pytest.approx(pooled)


def test_tiny_frame_works() -> None:
    assert psnr(torch.zeros(1, 3, 1, 1), torch.full((1, 3, 1, 1), 0.5)).item() == pytest.approx(
        6.0206, abs=1e-4
    )


def test_mismatched_sizes_raise_clear_error() -> None:
    with pytest.raises(DataError, match="differ in size: 8x8 .* vs 8x9"):
        psnr(torch.zeros(1, 3, 8, 8), torch.zeros(1, 3, 8, 9))
