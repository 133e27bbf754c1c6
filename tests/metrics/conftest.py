"""Fixtures for the metric tests: a random plain-torch AlexNet and the real lpips package beside it."""

from __future__ import annotations

import sys
import types

import pytest
import torch

from framepred.metrics.alexnet import AlexNet


@pytest.fixture
def random_alexnet() -> AlexNet:
    """A plain-torch AlexNet with fixed random weights (the ImageNet file is not available offline)."""
    torch.manual_seed(1234)
    return AlexNet().eval()


@pytest.fixture
def reference_lpips(monkeypatch: pytest.MonkeyPatch, random_alexnet: AlexNet):
    """The real ``lpips.LPIPS(net="alex")``, imported with a stand-in ``torchvision`` whose ``alexnet``
    hands it our plain-torch AlexNet holding ``random_alexnet``'s weights."""
    fake_torchvision = types.ModuleType("torchvision")
    fake_models = types.ModuleType("torchvision.models")

    def alexnet(*args: object, **kwargs: object) -> AlexNet:
        net = AlexNet()
        net.load_state_dict(random_alexnet.state_dict())
        return net

    fake_models.alexnet = alexnet
    fake_torchvision.models = fake_models
    monkeypatch.setitem(sys.modules, "torchvision", fake_torchvision)
    monkeypatch.setitem(sys.modules, "torchvision.models", fake_models)
    # Re-import lpips against the stand-in (and drop it again afterwards).
    for name in [n for n in sys.modules if n == "lpips" or n.startswith("lpips.")]:
        monkeypatch.delitem(sys.modules, name)
    import lpips

    model = lpips.LPIPS(net="alex", version="0.1", verbose=False)
    yield model
    for name in [n for n in sys.modules if n == "lpips" or n.startswith("lpips.")]:
        del sys.modules[name]
