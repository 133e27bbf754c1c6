"""`framepred evaluate` end to end through the typer app, on small trees and folders made here."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from framepred.cli.app import app
from framepred.data.tree import SequenceWriter
from framepred.io.images import write_image
from framepred.metrics.alexnet import AlexNet


def run(args: list[str]):
    return CliRunner().invoke(app, ["evaluate", *args])


@pytest.fixture
def tree(tmp_path):
    rng = np.random.default_rng(0)
    root = tmp_path / "tree"
    for number in range(2):
        base = rng.integers(0, 200, (40, 48, 3))
        with SequenceWriter(root, "test", f"seq{number}") as writer:
            for i in range(9):
                writer.write(np.clip(base + 4 * i * (number + 1), 0, 255).astype(np.uint8))
    return root


@pytest.fixture
def folders(tmp_path):
    rng = np.random.default_rng(1)
    pred, gt = tmp_path / "pred", tmp_path / "gt"
    for folder in (pred, gt):
        folder.mkdir()
    for i in range(2):
        truth = rng.integers(0, 200, (40, 40, 3), dtype=np.uint8)  # no clipping at 255
        write_image(gt / f"{i:06d}.png", truth)
        write_image(pred / f"{i:06d}.png", np.clip(truth.astype(int) + 9, 0, 255).astype(np.uint8))
    return pred, gt


@pytest.fixture
def random_backbone(tmp_path):
    torch.manual_seed(0)
    path = tmp_path / "alexnet_random.pth"
    torch.save(AlexNet().state_dict(), path)
    return path


def test_tree_mode_json_per_step_and_baseline(tree, tmp_path) -> None:
    csv_path, plot_path = tmp_path / "steps.csv", tmp_path / "steps.png"
    args = ["--data", str(tree), "--model", "linear", "--baseline", "copy-last", "--metrics", "psnr,ssim"]
    result = run([*args, "--device", "cpu", "--json", "--csv", str(csv_path), "--plot", str(plot_path)])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert set(out) >= {"per_step", "cumulative", "mean", "count", "settings", "baselines"}
    assert [row["step"] for row in out["per_step"]] == [1, 2, 3, 4, 5]
    assert out["count"] == 2 and out["settings"]["protocol"] == "dmvfn"
    assert set(out["per_step"][0]) == {"step", "psnr", "ssim"}
    assert "copy-last" in out["baselines"]
    # Linear extrapolation is exact on these linear ramps (until values clip); copy-last is not.
    assert out["per_step"][0]["psnr"] > out["baselines"]["copy-last"]["per_step"][0]["psnr"]
    rows = list(csv.DictReader(csv_path.open()))
    assert len(rows) == 10 and rows[0]["model"] == "linear" and rows[5]["model"] == "copy-last"
    assert float(rows[1]["psnr_cumulative"]) == pytest.approx(out["cumulative"][1]["psnr"])
    assert plot_path.read_bytes()[:4] == b"\x89PNG"
    assert "per step" in result.stderr and "t+5" in result.stderr


def test_folder_mode_with_custom_lpips_backbone_and_bgr(folders, random_backbone) -> None:
    pred, gt = folders
    args = ["--pred", str(pred), "--gt", str(gt), "--lpips-weights", str(random_backbone), "--bgr-lpips"]
    result = run([*args, "--metrics", "psnr,lpips", "--device", "cpu", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["count"] == 2 and out["mean"]["lpips"] > 0
    assert out["mean"]["psnr"] == pytest.approx(-20 * np.log10(9 / 255), abs=1e-4)
    lpips = out["settings"]["metric_settings"]["lpips"]
    assert lpips["backbone"] == "custom backbone" and lpips["colour_order"].startswith("BGR")
    assert len(lpips["backbone_sha256"]) == 64


@pytest.mark.parametrize(
    "args, message",
    [
        (["--pred", "P"], "needs both --pred DIR and --gt DIR"),
        (["--model", "copy-last"], "give --data TREE"),
        (["--data", "T"], "exactly one of --weights"),
        (["--data", "T", "--model", "copy-last", "--metrics", "fid"], "unknown metric 'fid'"),
        (["--data", "T", "--model", "copy-last", "--protocol", "vimeo"], "unknown protocol"),
        (["--data", "T", "--model", "nope"], "unknown model 'nope'"),
    ],
)
def test_usage_errors_exit_2_with_one_line(tree, args, message) -> None:
    args = [str(tree) if a == "T" else a for a in args]
    result = run([*args, "--device", "cpu"])
    assert result.exit_code == 2
    assert message in result.stderr and "Traceback" not in result.output


def test_folder_mode_rejects_tree_options(folders) -> None:
    pred, gt = folders
    result = run(["--pred", str(pred), "--gt", str(gt), "--model", "copy-last", "--steps", "3"])
    assert result.exit_code == 2 and "--model, --steps cannot be combined" in result.stderr


def test_missing_prediction_exits_2_naming_the_frame(folders) -> None:
    pred, gt = folders
    (pred / "000001.png").unlink()
    result = run(["--pred", str(pred), "--gt", str(gt), "--metrics", "psnr", "--device", "cpu"])
    assert result.exit_code == 2 and "000001.png" in result.stderr and "Traceback" not in result.output


@pytest.fixture
def offline(tmp_path, monkeypatch):
    """No LPIPS backbone in the hub cache, no override, and no network (an unreachable download URL)."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.delenv("FRAMEPRED_LPIPS_WEIGHTS", raising=False)
    monkeypatch.setattr("framepred.metrics.weights.ALEXNET_URL", (tmp_path / "offline.pth").as_uri())
    return tmp_path / "torch" / "hub" / "checkpoints"


def test_lpips_asked_for_without_its_backbone_is_an_error(folders, offline) -> None:
    pred, gt = folders
    result = run(["--pred", str(pred), "--gt", str(gt), "--metrics", "psnr,lpips", "--device", "cpu"])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and "Traceback" not in result.output
    assert "alexnet-owt-7be5be79.pth" in lines[0] and str(offline) in lines[0]
    assert "--lpips-weights" in lines[0]


def test_default_metrics_without_the_backbone_warn_and_score_the_rest(folders, offline) -> None:
    pred, gt = folders
    result = run(["--pred", str(pred), "--gt", str(gt), "--device", "cpu", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["mean"]["lpips"] is None and out["mean"]["psnr"] > 20
    assert "warning" in result.stderr and "alexnet-owt-7be5be79.pth" in result.stderr


@pytest.fixture
def sampled_dmvfn(tmp_path):
    from framepred.models.checkpoint import save_model
    from framepred.models.registry import create_model

    torch.manual_seed(0)
    path = tmp_path / "dmvfn.safetensors"
    save_model(create_model("dmvfn", features=[8] * 9, routing="sample"), path)
    return path


def test_seed_changes_dmvfns_sampled_routing_and_repeats(tree, sampled_dmvfn) -> None:
    def psnr(seed: int) -> list[float]:
        args = ["--data", str(tree), "--weights", str(sampled_dmvfn), "--metrics", "psnr", "--device", "cpu"]
        result = run([*args, "--seed", str(seed), "--json"])
        assert result.exit_code == 0, result.output
        return [row["psnr"] for row in json.loads(result.stdout)["per_step"]]

    assert psnr(1) == psnr(1)
    assert psnr(1) != psnr(2)


def test_save_images_writes_every_window_and_rescores_per_step(tree, tmp_path) -> None:
    pred, truth = tmp_path / "saved" / "pred", tmp_path / "saved" / "gt"
    args = ["--data", str(tree), "--model", "linear", "--metrics", "psnr", "--device", "cpu", "--json"]
    scored = run(
        [*args, "--protocol", "next", "--steps", "2", "--save-images", str(pred), "--save-truth", str(truth)]
    )
    assert scored.exit_code == 0, scored.output
    # next protocol on 9-frame sequences: windows 0..5 of each sequence, t+1 and t+2
    expected = {f"seq{s}/{w:06d}/t+{k}.png" for s in range(2) for w in range(6) for k in (1, 2)}
    assert {p.relative_to(pred).as_posix() for p in pred.rglob("*.png")} == expected
    assert {p.relative_to(truth).as_posix() for p in truth.rglob("*.png")} == expected
    # window 3 of seq1 predicts frames 5 and 6 of the sequence
    from framepred.io.images import read_image

    np.testing.assert_array_equal(
        read_image(truth / "seq1/000003/t+2.png"), read_image(tree / "test/seq1/000006.png")
    )
    rescored = run(
        ["--pred", str(pred), "--gt", str(truth), "--metrics", "psnr", "--device", "cpu", "--json"]
    )
    assert rescored.exit_code == 0, rescored.output
    model, files = json.loads(scored.stdout), json.loads(rescored.stdout)
    assert files["count"] == model["count"] == 12
    for a, b in zip(files["per_step"], model["per_step"], strict=True):
        assert a["step"] == b["step"] and a["psnr"] == pytest.approx(b["psnr"], abs=0.05)  # 8-bit files
    # one missing file is named, relative to --gt
    (pred / "seq0" / "000002" / "t+2.png").unlink()
    missing = run(["--pred", str(pred), "--gt", str(truth), "--metrics", "psnr", "--device", "cpu"])
    assert missing.exit_code == 2 and "seq0/000002/t+2.png" in missing.output


def test_metric_asked_for_on_frames_too_small_is_an_error(folders) -> None:
    pred, gt = folders  # 40 x 40: MS-SSIM needs 161 px
    result = run(["--pred", str(pred), "--gt", str(gt), "--metrics", "psnr,msssim", "--device", "cpu"])
    assert result.exit_code == 2, result.output
    assert "MS-SSIM" in result.stderr and "40x40" in result.stderr and "leave msssim out" in result.stderr
