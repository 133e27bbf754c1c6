import pytest
import torch
from pytorch_msssim import ms_ssim as reference_ms_ssim

from framepred.errors import DataError, UsageError, WeightsMissingError
from framepred.metrics import LPIPS, MetricSuite, compute_metrics, parse_metric_names, psnr, ssim
from framepred.metrics.alexnet import AlexNet
from framepred.metrics.weights import ENV_VAR
from tests.metrics.metrics_helpers import noisy_pair


@pytest.fixture
def custom_backbone(tmp_path):
    torch.manual_seed(0)
    path = tmp_path / "alexnet_random.pth"
    torch.save(AlexNet().state_dict(), path)
    return path


@pytest.fixture
def offline(tmp_path, monkeypatch):
    """No backbone in the hub cache, no override, and no network (an unreachable download URL)."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.setattr("framepred.metrics.weights.ALEXNET_URL", (tmp_path / "none.pth").as_uri())


def test_parse_metric_names() -> None:
    assert parse_metric_names(None) == ("psnr", "ssim", "msssim", "lpips")
    assert parse_metric_names("lpips, MS-SSIM,psnr") == ("psnr", "msssim", "lpips")
    with pytest.raises(UsageError, match="unknown metric 'fid'"):
        parse_metric_names("psnr,fid")
    with pytest.raises(UsageError, match="no metric"):
        parse_metric_names(" , ")


def test_all_four_metrics_per_frame(custom_backbone) -> None:
    pred, gt = noisy_pair((2, 3, 165, 170), noise=0.1)
    suite = MetricSuite(lpips_weights=custom_backbone)
    values = suite.compute(pred, gt)
    assert list(values) == ["psnr", "ssim", "msssim", "lpips"]
    assert all(
        v.shape == (2,) and v.dtype == torch.float64 and v.device.type == "cpu" for v in values.values()
    )
    assert torch.equal(values["psnr"], psnr(pred, gt))
    assert torch.equal(values["ssim"], ssim(pred, gt))
    expected_ms = reference_ms_ssim(gt, pred, data_range=1.0, size_average=False).double()
    assert torch.allclose(values["msssim"], expected_ms, atol=1e-5, rtol=0)
    assert torch.allclose(values["lpips"], LPIPS.load(custom_backbone)(pred, gt), atol=1e-12, rtol=0)
    lpips_settings = suite.settings()["lpips"]
    assert lpips_settings["backbone"] == "custom backbone" and len(lpips_settings["backbone_sha256"]) == 64
    assert lpips_settings["colour_order"] == "RGB"


def test_predictions_are_clipped_before_scoring() -> None:
    gt = torch.rand(1, 3, 16, 16)
    over = gt.clone()
    over[..., 0, 0] = 1.7  # out-of-range prediction pixels count as 1.0
    expected = gt.clone()
    expected[..., 0, 0] = 1.0
    assert torch.equal(compute_metrics(over, gt, "psnr")["psnr"], psnr(expected, gt))


def test_small_frames_leave_out_ms_ssim_with_a_note(custom_backbone) -> None:
    pred, gt = noisy_pair((2, 3, 64, 96))
    suite = MetricSuite(lpips_weights=custom_backbone)
    values = suite.compute(pred, gt)
    assert set(values) == {"psnr", "ssim", "lpips"}
    assert "161" in suite.notes["msssim"] and "64x96" in suite.notes["msssim"]
    assert suite.settings()["left_out"]["msssim"] == suite.notes["msssim"]


def test_tiny_frames_keep_psnr_only(custom_backbone) -> None:
    pred, gt = noisy_pair((1, 3, 8, 8))
    suite = MetricSuite(lpips_weights=custom_backbone)
    assert set(suite.compute(pred, gt)) == {"psnr"}
    assert set(suite.notes) == {"ssim", "msssim", "lpips"}


def test_offline_lpips_is_left_out_of_the_default_set_and_others_still_run(offline) -> None:
    pred, gt = noisy_pair((1, 3, 40, 40))
    suite = MetricSuite()
    values = suite.compute(pred, gt)
    assert set(values) == {"psnr", "ssim"}  # MS-SSIM left out too: 40 px
    assert "alexnet-owt-7be5be79.pth" in suite.notes["lpips"]
    assert suite.settings()["lpips"]["backbone"] == "unavailable"


def test_offline_lpips_asked_for_by_name_is_an_error(offline) -> None:
    with pytest.raises(WeightsMissingError, match="alexnet-owt-7be5be79.pth.*leave lpips out"):
        MetricSuite("psnr,ssim,lpips")


def test_metric_asked_for_by_name_on_small_frames_is_an_error(custom_backbone) -> None:
    pred, gt = noisy_pair((1, 3, 64, 96))
    with pytest.raises(DataError, match="MS-SSIM cannot score 64x96 frames.*leave msssim out"):
        MetricSuite("psnr,msssim").compute(pred, gt)


def test_target_shares_the_ground_truth_features_and_gives_the_same_values(custom_backbone) -> None:
    pred, gt = noisy_pair((2, 3, 165, 170), noise=0.1)
    other, _ = noisy_pair((2, 3, 165, 170), noise=0.2, seed=1)
    suite = MetricSuite(lpips_weights=custom_backbone)
    frames_through_alexnet = []
    hook = suite.lpips.net.features[0].register_forward_pre_hook(
        lambda module, args: frames_through_alexnet.append(args[0].shape[0])
    )
    target = suite.target(gt)
    shared = [suite.compute(p, target) for p in (pred, other)]
    hook.remove()
    assert frames_through_alexnet == [2, 2, 2]  # the ground truth once, then each prediction alone
    plain = [suite.compute(p, gt) for p in (pred, other)]
    for with_target, without in zip(shared, plain):
        assert list(with_target) == list(without)
        for name in without:
            assert torch.allclose(with_target[name], without[name], atol=1e-6, rtol=0), name
    assert target.lpips_features is not None and len(target.lpips_features) == 5


def test_bgr_recorded_in_settings(custom_backbone) -> None:
    suite = MetricSuite("lpips", lpips_weights=custom_backbone, bgr_lpips=True)
    assert suite.settings()["lpips"]["colour_order"].startswith("BGR")
    pred, gt = noisy_pair((1, 3, 40, 40))
    rgb = MetricSuite("lpips", lpips_weights=custom_backbone).compute(pred, gt)["lpips"]
    bgr = suite.compute(pred, gt)["lpips"]
    assert torch.allclose(
        bgr, MetricSuite("lpips", lpips_weights=custom_backbone).compute(pred.flip(1), gt.flip(1))["lpips"]
    )
    assert not torch.equal(rgb, bgr)


def test_mismatched_sizes_raise_clear_error() -> None:
    with pytest.raises(DataError, match="differ in size"):
        compute_metrics(torch.rand(1, 3, 20, 20), torch.rand(1, 3, 20, 24), "psnr")


@pytest.mark.gpu
def test_cuda_matches_cpu(custom_backbone) -> None:
    pred, gt = noisy_pair((2, 3, 170, 200), noise=0.1)
    on_cpu = MetricSuite(lpips_weights=custom_backbone).compute(pred, gt)
    on_gpu = MetricSuite(device="cuda", lpips_weights=custom_backbone).compute(pred.cuda(), gt.cuda())
    for name, values in on_cpu.items():
        assert on_gpu[name].device.type == "cpu"
        assert torch.allclose(on_gpu[name], values, atol=1e-5, rtol=0), name
