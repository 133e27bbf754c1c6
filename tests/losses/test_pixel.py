import math

import numpy as np
import pytest
import torch
from scipy import ndimage

from framepred.losses.pixel import LaplacianLoss, gaussian_blur, gaussian_kernel, l1_loss, laplacian_pyramid


def test_l1_on_known_values():
    a = torch.zeros(1, 3, 4, 4)
    b = torch.full((1, 3, 4, 4), 0.25)
    b[0, 0, 0, 0] = 1.25
    assert l1_loss(a, b).item() == pytest.approx((47 * 0.25 + 1.25) / 48)


def test_kernel_is_normalised_binomial():
    kernel = gaussian_kernel(3)
    assert kernel.shape == (3, 1, 5, 5)
    assert kernel[0, 0].sum().item() == pytest.approx(1.0)
    assert kernel[0, 0, 2, 2].item() == pytest.approx(36 / 256)


def test_identical_and_constant_shift_give_zero():
    torch.manual_seed(0)
    x = torch.rand(2, 3, 64, 64)
    loss = LaplacianLoss()
    assert loss(x, x).item() == 0.0
    # Every band is a band-pass: a constant brightness offset changes only the omitted residual.
    assert loss(x + 0.3, x).item() == pytest.approx(0.0, abs=1e-6)


def _numpy_band0(image: np.ndarray) -> np.ndarray:
    # Independent reference for the finest band: scipy's "mirror" mode is torch's "reflect".
    taps = np.array([1.0, 4.0, 6.0, 4.0, 1.0])
    kernel = np.outer(taps, taps) / 256.0
    down = ndimage.convolve(image, kernel, mode="mirror")[::2, ::2]
    up = np.zeros_like(image)
    up[::2, ::2] = down
    return image - ndimage.convolve(up, kernel * 4.0, mode="mirror")


def test_finest_band_matches_numpy_reference():
    rng = np.random.default_rng(1)
    image = rng.random((32, 32))
    bands = laplacian_pyramid(torch.from_numpy(image).view(1, 1, 32, 32), gaussian_kernel(1).double(), 1)
    np.testing.assert_allclose(bands[0][0, 0].numpy(), _numpy_band0(image), atol=1e-12)


def test_loss_equals_sum_of_band_l1_on_known_input():
    rng = np.random.default_rng(2)
    a, b = rng.random((64, 64)), rng.random((64, 64))
    expected = np.abs(_numpy_band0(a) - _numpy_band0(b)).mean()
    got = LaplacianLoss(levels=1, channels=1)(
        torch.from_numpy(a).view(1, 1, 64, 64), torch.from_numpy(b).view(1, 1, 64, 64)
    )
    assert got.item() == pytest.approx(expected, rel=1e-10)


def test_pyramid_reconstructs_the_image():
    torch.manual_seed(3)
    x = torch.rand(1, 3, 64, 64, dtype=torch.float64)
    kernel = gaussian_kernel(3).double()
    bands = laplacian_pyramid(x, kernel, 5)
    residual = x
    for _ in range(5):
        residual = torch.nn.functional.conv2d(
            torch.nn.functional.pad(residual, (2, 2, 2, 2), mode="reflect"), kernel, groups=3
        )[:, :, ::2, ::2]
    from framepred.losses.pixel import _upsample

    rebuilt = residual
    for band in reversed(bands):
        rebuilt = band + _upsample(rebuilt, kernel)
    torch.testing.assert_close(rebuilt, x)


def test_bad_size_is_a_clear_error():
    with pytest.raises(ValueError, match="multiples of 32"):
        LaplacianLoss()(torch.rand(1, 3, 48, 48), torch.rand(1, 3, 48, 48))


def test_weighted_sum_equals_separate_pyramids_of_prediction_and_target():
    generator = torch.Generator().manual_seed(4)
    target = torch.rand(2, 3, 64, 96, generator=generator)
    predictions = [torch.rand(2, 3, 64, 96, generator=generator) for _ in range(4)]
    weights = [0.8**3, 0.8**2, 0.8, 1.0]
    loss = LaplacianLoss()
    kernel = gaussian_kernel()
    target_bands = laplacian_pyramid(target, kernel)
    expected = sum(
        w * sum(l1_loss(a, b) for a, b in zip(laplacian_pyramid(p, kernel), target_bands, strict=True))
        for w, p in zip(weights, predictions, strict=True)
    )
    assert loss.weighted_sum(predictions, target, weights).item() == pytest.approx(expected.item(), rel=1e-6)
    assert loss(predictions[0], target).item() == pytest.approx(
        sum(l1_loss(a, b) for a, b in zip(laplacian_pyramid(predictions[0], kernel), target_bands)).item(),
        rel=1e-6,
    )


def test_gaussian_blur_keeps_constants_and_mass_and_spreads_a_point():
    constant = torch.full((2, 3, 20, 20), 0.7)
    assert torch.allclose(gaussian_blur(constant, 2.0), constant, atol=1e-6)
    point = torch.zeros(1, 1, 41, 41)
    point[..., 20, 20] = 1.0
    blurred = gaussian_blur(point, 2.0)
    assert blurred.shape == point.shape and float(blurred.sum()) == pytest.approx(1.0, abs=1e-5)
    # Separable Gaussian: one sigma away along an axis the value is exp(-1/2) of the centre's.
    assert float(blurred[..., 20, 22] / blurred[..., 20, 20]) == pytest.approx(math.exp(-0.5), rel=1e-4)
    assert torch.allclose(blurred, blurred.transpose(-1, -2))
