import numpy as np
import pytest
import torch

from framepred.errors import DataError
from framepred.io.images import write_image
from framepred.metrics import compute_metrics
from framepred.metrics.evaluate import evaluate_folders


def random_image(seed: int, size=(48, 64)) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (*size, 3), dtype=np.uint8)


def make_folders(tmp_path, count=3, size=(48, 64)):
    pred, gt = tmp_path / "pred", tmp_path / "gt"
    pred.mkdir()
    gt.mkdir()
    for i in range(count):
        truth = random_image(i, size)
        noisy = np.clip(
            truth.astype(int) + np.random.default_rng(100 + i).integers(-20, 21, truth.shape), 0, 255
        )
        write_image(gt / f"{i:06d}.png", truth)
        write_image(pred / f"{i:06d}.png", noisy.astype(np.uint8))
    return pred, gt


def as_tensor(path) -> torch.Tensor:
    from framepred.io.images import read_image

    return torch.from_numpy(read_image(path)).permute(2, 0, 1)[None].float() / 255.0


def test_same_named_frames_are_compared(tmp_path) -> None:
    pred, gt = make_folders(tmp_path)
    result = evaluate_folders(pred, gt, metrics="psnr,ssim", device="cpu", batch_size=2)
    expected = [
        compute_metrics(as_tensor(pred / f"{i:06d}.png"), as_tensor(gt / f"{i:06d}.png"), "psnr,ssim")
        for i in range(3)
    ]
    assert result["count"] == 3
    assert result["mean"]["psnr"] == pytest.approx(np.mean([e["psnr"].item() for e in expected]), abs=1e-9)
    assert result["mean"]["ssim"] == pytest.approx(np.mean([e["ssim"].item() for e in expected]), abs=1e-9)
    assert result["per_step"] == [{"step": 1, **result["mean"]}]
    assert result["warnings"] == []


def test_prediction_as_jpg_matches_png_ground_truth_by_name(tmp_path) -> None:
    pred, gt = make_folders(tmp_path, count=1)
    (pred / "000000.png").rename(pred / "000000.jpg")
    assert evaluate_folders(pred, gt, metrics="psnr", device="cpu")["count"] == 1


def test_missing_prediction_is_an_error_naming_the_frame(tmp_path) -> None:
    pred, gt = make_folders(tmp_path)
    (pred / "000001.png").unlink()
    with pytest.raises(DataError, match="no prediction for 1 of 3 ground-truth frames: 000001.png"):
        evaluate_folders(pred, gt, metrics="psnr", device="cpu")


def test_extra_predictions_are_ignored_with_a_warning(tmp_path) -> None:
    pred, gt = make_folders(tmp_path)
    write_image(pred / "extra.png", random_image(9))
    result = evaluate_folders(pred, gt, metrics="psnr", device="cpu")
    assert result["count"] == 3 and "no ground truth" in result["warnings"][0]


def test_unreadable_image_is_an_error_naming_the_file(tmp_path) -> None:
    pred, gt = make_folders(tmp_path)
    (pred / "000002.png").write_bytes(b"\x89PNG broken")
    with pytest.raises(DataError, match="000002.png: not a readable image"):
        evaluate_folders(pred, gt, metrics="psnr", device="cpu")


def test_mismatched_sizes_are_an_error_naming_both_files(tmp_path) -> None:
    pred, gt = make_folders(tmp_path)
    write_image(pred / "000001.png", random_image(1, (48, 60)))
    with pytest.raises(DataError, match=r"000001.png: is 48x64 but .*pred/000001.png is 48x60"):
        evaluate_folders(pred, gt, metrics="psnr", device="cpu")


def test_empty_or_missing_folders(tmp_path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="holds no images"):
        evaluate_folders(tmp_path / "empty", tmp_path / "empty", device="cpu")
    with pytest.raises(DataError, match="no such folder"):
        evaluate_folders(tmp_path / "nope", tmp_path / "empty", device="cpu")


def test_zero_error_and_small_frames_give_notes_not_crashes(tmp_path) -> None:
    folder = tmp_path / "same"
    folder.mkdir()
    write_image(folder / "a.png", random_image(0, (20, 24)))
    result = evaluate_folders(folder, folder, device="cpu")
    assert result["mean"]["psnr"] == 100.0 and result["mean"]["ssim"] == pytest.approx(1.0)
    assert result["mean"]["msssim"] is None
    assert any("MS-SSIM left out" in w for w in result["warnings"])
    assert any("LPIPS left out" in w for w in result["warnings"])
