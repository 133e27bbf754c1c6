import pytest
import torch

from framepred.errors import CheckpointError, DataError
from framepred.metrics import LPIPS
from framepred.metrics.alexnet import AlexNet, load_features_state
from framepred.metrics.lpips import read_lin_weights
from framepred.metrics.weights import locate_lin_weights
from tests.metrics.metrics_helpers import noisy_pair, real_pairs


def ours_with(net: AlexNet, bgr: bool = False) -> LPIPS:
    return LPIPS(net.state_dict(), read_lin_weights(locate_lin_weights().path), bgr=bgr)


def reference_values(reference, pred: torch.Tensor, gt: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return reference(pred, gt, normalize=True).flatten().double()


@pytest.mark.parametrize("shape", [(3, 3, 64, 64), (2, 3, 47, 90), (1, 3, 31, 31)])
def test_matches_real_lpips_package_on_random_frames(reference_lpips, random_alexnet, shape) -> None:
    pred, gt = noisy_pair(shape, noise=0.2, seed=7)
    ours = ours_with(random_alexnet)(pred, gt)
    assert ours.shape == (shape[0],) and ours.dtype == torch.float64
    expected = reference_values(reference_lpips, pred, gt)
    assert torch.allclose(ours, expected, rtol=0, atol=1e-5)
    # The values must not be trivially equal: different frames give different distances.
    assert ours.min() > 0


def test_matches_real_lpips_package_on_real_frames(reference_lpips, random_alexnet) -> None:
    pred, gt = real_pairs("hk_street_tram_realbasicvsr")
    pred, gt = pred[..., ::2, ::2], gt[..., ::2, ::2]  # 180 x 320 keeps the test fast
    ours = ours_with(random_alexnet)(pred, gt)
    assert torch.allclose(ours, reference_values(reference_lpips, pred, gt), rtol=0, atol=1e-5)


def test_bgr_switch_equals_reference_fed_bgr(reference_lpips, random_alexnet) -> None:
    pred, gt = noisy_pair((2, 3, 48, 64), noise=0.2, seed=9)
    ours_bgr = ours_with(random_alexnet, bgr=True)(pred, gt)
    expected = reference_values(reference_lpips, pred.flip(1), gt.flip(1))
    assert torch.allclose(ours_bgr, expected, rtol=0, atol=1e-5)
    assert not torch.allclose(ours_bgr, ours_with(random_alexnet)(pred, gt), rtol=0, atol=1e-5)


def test_identical_frames_have_zero_distance(random_alexnet) -> None:
    frame = torch.rand(2, 3, 40, 40)
    assert ours_with(random_alexnet)(frame, frame).abs().max() < 1e-12


def test_frames_under_31_px_raise_clear_error(random_alexnet) -> None:
    with pytest.raises(DataError, match="LPIPS needs .* at least 31 px, got 30x64"):
        ours_with(random_alexnet)(torch.rand(1, 3, 30, 64), torch.rand(1, 3, 30, 64))


def test_lin_weights_come_from_the_wheel() -> None:
    found = locate_lin_weights()
    assert found.path.parts[-4:] == ("lpips", "weights", "v0.1", "alex.pth")
    assert found.sha256.startswith("df73285e35b22355")
    weights = read_lin_weights(found.path)
    assert [w.numel() for w in weights] == [64, 192, 384, 256, 256]
    assert all(bool((w >= 0).all()) for w in weights)


def test_backbone_file_keeps_features_and_drops_classifier(tmp_path, random_alexnet) -> None:
    state = dict(random_alexnet.state_dict())
    state["classifier.1.weight"] = torch.zeros(4, 4)  # the zoo file also holds the classifier
    path = tmp_path / "alexnet.pth"
    torch.save(state, path)
    loaded = load_features_state(path)
    assert set(loaded) == set(random_alexnet.state_dict())


def test_backbone_file_with_wrong_content_raises(tmp_path) -> None:
    wrong = tmp_path / "vgg.pth"
    torch.save({"features.0.weight": torch.zeros(1)}, wrong)
    with pytest.raises(CheckpointError, match="does not hold AlexNet features"):
        load_features_state(wrong)
    garbage = tmp_path / "garbage.pth"
    garbage.write_bytes(b"not a torch file")
    with pytest.raises(CheckpointError, match="cannot read AlexNet weights"):
        load_features_state(garbage)


def unfused_lpips(model: LPIPS, pred: torch.Tensor, gt: torch.Tensor) -> torch.Tensor:
    """The metric written plainly: one batch, fresh tensors for every step (no in-place work)."""
    x = torch.cat([pred, gt]).double() * 2.0 - 1.0
    x = ((x - model.shift.double()) / model.scale.double()).float()
    total = torch.zeros(pred.shape[0], dtype=torch.float64)
    for index, feature in enumerate(model.net.taps(x.contiguous())):
        feature = feature / (torch.linalg.vector_norm(feature, dim=1, keepdim=True) + 1e-10)
        diff = (feature[: pred.shape[0]] - feature[pred.shape[0] :]) ** 2
        weight = getattr(model, f"lin{index}").double().view(1, -1, 1, 1)
        total = total + (diff.double() * weight).sum(1).mean(dim=(1, 2))
    return total


def test_in_place_pairwise_path_equals_unfused_reference(random_alexnet) -> None:
    pred, gt = noisy_pair((3, 3, 64, 96), noise=0.2, seed=11)
    model = ours_with(random_alexnet)
    with torch.inference_mode():
        expected = unfused_lpips(model, pred, gt)
        assert torch.allclose(model(pred, gt), expected, rtol=0, atol=1e-6)
        # Ground-truth features kept for several predictions must survive a consuming distance.
        gt_features = model.features(gt)
        kept = [f.clone() for f in gt_features]
        first = model.distance(model.features(pred), gt_features, consume=True)
        assert all(torch.equal(a, b) for a, b in zip(kept, gt_features))
        second = model.distance(model.features(pred), gt_features)
    assert torch.equal(first, second)
    assert torch.allclose(first, expected, rtol=0, atol=1e-6)
