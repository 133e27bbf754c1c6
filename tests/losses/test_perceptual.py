import hashlib

import pytest
import torch

from framepred.errors import CheckpointError, WeightsMissingError
from framepred.losses.perceptual import TAP_LAYERS, VGGPerceptualLoss
from framepred.losses.vgg import default_vgg19_path, load_vgg19_features, vgg19_features

# torchvision's vgg19 ``features`` conv indices (configuration "E").
TORCHVISION_CONVS = [0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28, 30, 32, 34]


def test_key_layout_matches_torchvision():
    state = vgg19_features().state_dict()
    expected = [f"{i}.{kind}" for i in TORCHVISION_CONVS for kind in ("weight", "bias")]
    assert list(state) == expected
    assert state["0.weight"].shape == (64, 3, 3, 3)
    assert state["34.weight"].shape == (512, 512, 3, 3)
    assert all(isinstance(vgg19_features()[i], torch.nn.ReLU) for i in TAP_LAYERS)


def _save_torchvision_layout(folder, name=None):
    torch.manual_seed(0)
    features = vgg19_features()
    state = {f"features.{k}": v for k, v in features.state_dict().items()}
    state["classifier.0.weight"] = torch.zeros(4, 4)  # the real file holds the classifier too
    tmp = folder / "tmp.pth"
    torch.save(state, tmp)
    digest = hashlib.sha256(tmp.read_bytes()).hexdigest()
    path = folder / (name or f"vgg19-{digest[:8]}.pth")
    tmp.rename(path)
    return features, path


def test_loads_a_torchvision_layout_file(tmp_path):
    features, path = _save_torchvision_layout(tmp_path)
    loaded = load_vgg19_features(path)
    for (key, a), b in zip(features.state_dict().items(), loaded.state_dict().values(), strict=True):
        assert torch.equal(a, b), key


def test_hash_mismatch_is_rejected(tmp_path):
    _save_torchvision_layout(tmp_path, name="vgg19-00000000.pth")
    with pytest.raises(CheckpointError, match="SHA-256"):
        load_vgg19_features(tmp_path / "vgg19-00000000.pth")


def test_missing_file_says_where_to_put_it(tmp_path, monkeypatch):
    with pytest.raises(WeightsMissingError, match="--no-perceptual"):
        load_vgg19_features(tmp_path / "nope.pth")
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    with pytest.raises(WeightsMissingError, match=str(default_vgg19_path())):
        VGGPerceptualLoss()


def test_wrong_layout_is_rejected(tmp_path):
    torch.save({"conv.weight": torch.zeros(1)}, tmp_path / "other.pth")
    with pytest.raises(CheckpointError, match="not a torchvision VGG19"):
        load_vgg19_features(tmp_path / "other.pth")


def test_perceptual_loss_terms():
    torch.manual_seed(0)
    loss = VGGPerceptualLoss(features=vgg19_features())
    x = torch.rand(1, 3, 32, 32)
    assert loss(x, x).item() == 0.0
    y = torch.rand(1, 3, 32, 32, requires_grad=True)
    value = loss(y, x)
    # Reference: the same taps computed directly from the layers, ReLU out of place.
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    weights = [1 / 2.6, 1 / 4.8, 1 / 3.7, 1 / 5.6, 10 / 1.5]
    a, b, expected = (y.detach() - mean) / std, (x - mean) / std, 0.0
    for index, layer in enumerate(loss.features):
        a, b = (torch.relu(a), torch.relu(b)) if isinstance(layer, torch.nn.ReLU) else (layer(a), layer(b))
        if index in TAP_LAYERS:
            expected += 0.1 * weights[TAP_LAYERS.index(index)] * (a - b).abs().mean().item()
    assert value.item() == pytest.approx(expected, rel=1e-5)
    value.backward()
    assert y.grad is not None and y.grad.abs().sum() > 0
    assert all(p.grad is None for p in loss.parameters())
