"""The gradient difference loss against a plain NumPy loop over neighbouring pixels."""

import numpy as np
import pytest
import torch

from framepred.losses.gradient_difference import gradient_difference_loss


def gdl_numpy(pred, target, alpha):
    total = 0.0
    for axis in (2, 3):
        n = pred.shape[axis]
        terms = []
        for i in range(1, n):
            p = np.abs(np.take(pred, i, axis) - np.take(pred, i - 1, axis))
            t = np.abs(np.take(target, i, axis) - np.take(target, i - 1, axis))
            terms.append(np.abs(t - p) ** alpha)
        total += np.mean(np.stack(terms))
    return total


@pytest.mark.parametrize("alpha", [1.0, 2.0])
def test_matches_numpy(alpha):
    rng = np.random.default_rng(0)
    pred, target = rng.uniform(-1, 1, (2, 3, 7, 9)), rng.uniform(-1, 1, (2, 3, 7, 9))
    value = gradient_difference_loss(torch.from_numpy(pred), torch.from_numpy(target), alpha)
    assert value.item() == pytest.approx(gdl_numpy(pred, target, alpha), rel=1e-12)


def test_compares_gradient_magnitudes_not_values():
    target = torch.rand(1, 3, 8, 8)
    assert gradient_difference_loss(target + 0.3, target).item() == pytest.approx(0.0, abs=1e-7)
    assert gradient_difference_loss(-target, target).item() == pytest.approx(0.0, abs=1e-7)  # |grad| equal
    assert gradient_difference_loss(torch.zeros_like(target), target).item() > 0
