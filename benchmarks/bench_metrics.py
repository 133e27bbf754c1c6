"""Frames per second of all four metrics at 512 x 1024: framepred's batched suite against a per-frame
loop over the reference libraries (``pytorch_msssim`` for SSIM / MS-SSIM, the real ``lpips`` package
for LPIPS, DMVFN's ``-10 log10(MSE)`` for PSNR), with the numbers checked equal.

torchvision cannot be imported here, so ``lpips`` is given a stand-in ``torchvision`` module whose
``alexnet`` returns framepred's plain-torch AlexNet; both sides use the same backbone weights (the
ImageNet file from the torch hub cache when present, else fixed random weights).

The last row scores two predictions against each ground truth, as ``evaluate --baseline`` does (a
model and a baseline): the loop runs the library calls for each prediction, framepred prepares the
ground truth once (``MetricSuite.target``: its AlexNet features are computed once).

    .venv/bin/python benchmarks/bench_metrics.py [--frames 8] [--batch-size 4] [--rounds 5] [--breakdown]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from framepred.io.weights import hub_checkpoint_dir
from framepred.metrics import LPIPS, MetricSuite
from framepred.metrics.alexnet import AlexNet, load_features_state
from framepred.metrics.lpips import read_lin_weights
from framepred.metrics.weights import ALEXNET_FILE, locate_lin_weights

HEIGHT, WIDTH = 512, 1024
ALL = ("psnr", "ssim", "msssim", "lpips")
DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "cityscapes_aachen_seq0003_vid2vid"


def load_frames(count: int) -> tuple[torch.Tensor, torch.Tensor, str]:
    """``count`` (frame i + 1, frame i) pairs at 512 x 1024: real Cityscapes frames when present."""
    if DATA.is_dir():
        from framepred.io.images import list_images, read_image

        files = list_images(DATA)[: count + 1]
        frames = torch.stack([torch.from_numpy(read_image(f)).permute(2, 0, 1) for f in files]).float() / 255
        frames = torch.nn.functional.interpolate(
            frames, size=(HEIGHT, WIDTH), mode="bilinear", antialias=True
        )
        frames = frames.clamp(0, 1)
        if len(frames) == count + 1:
            return frames[1:].contiguous(), frames[:-1].contiguous(), "Cityscapes aachen seq0003 (real)"
    generator = torch.Generator().manual_seed(0)
    gt = torch.rand(count, 3, HEIGHT, WIDTH, generator=generator)
    pred = (gt + 0.05 * torch.randn(gt.shape, generator=generator)).clamp(0, 1)
    return pred, gt, "random"


def backbone_state() -> tuple[dict[str, torch.Tensor], str]:
    path = hub_checkpoint_dir() / ALEXNET_FILE
    if path.is_file():
        return load_features_state(path), "ImageNet (alexnet-owt-7be5be79.pth)"
    torch.manual_seed(0)
    return AlexNet().state_dict(), "random weights (ImageNet file not in the hub cache)"


def reference_lpips(state: dict[str, torch.Tensor]):
    """The real ``lpips.LPIPS(net="alex")`` built on a stand-in torchvision holding ``state``."""
    fake_torchvision = types.ModuleType("torchvision")
    fake_models = types.ModuleType("torchvision.models")

    def alexnet(*args: object, **kwargs: object) -> AlexNet:
        net = AlexNet()
        net.load_state_dict(state, strict=False)
        return net

    fake_models.alexnet = alexnet
    fake_torchvision.models = fake_models
    sys.modules["torchvision"] = fake_torchvision
    sys.modules["torchvision.models"] = fake_models
    import lpips

    return lpips.LPIPS(net="alex", verbose=False).eval()


def reference_loop(
    pred: torch.Tensor, gt: torch.Tensor, lpips_model: Any, names: tuple[str, ...] = ALL
) -> dict[str, list[float]]:
    """The per-frame library loop (as DMVFN's test script does it), under no_grad."""
    from pytorch_msssim import ms_ssim, ssim

    out: dict[str, list[float]] = {n: [] for n in names}
    with torch.no_grad():
        for i in range(pred.shape[0]):
            p, g = pred[i : i + 1], gt[i : i + 1]
            if "psnr" in names:
                out["psnr"].append(-10.0 * torch.log10(torch.mean((g - p) ** 2)).item())
            if "ssim" in names:
                out["ssim"].append(ssim(g, p, data_range=1.0, size_average=False).item())
            if "msssim" in names:
                out["msssim"].append(ms_ssim(g, p, data_range=1.0, size_average=False).item())
            if "lpips" in names:
                out["lpips"].append(lpips_model(p, g, normalize=True).item())
    return out


def ours(pred: torch.Tensor, gt: torch.Tensor, suite: MetricSuite, batch_size: int) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {n: [] for n in suite.names}
    for start in range(0, pred.shape[0], batch_size):
        values = suite.compute(pred[start : start + batch_size], gt[start : start + batch_size])
        for name, tensor in values.items():
            out[name] += tensor.tolist()
    return out


def ours_with_baseline(
    preds: tuple[torch.Tensor, torch.Tensor], gt: torch.Tensor, suite: MetricSuite, batch_size: int
) -> dict[str, list[float]]:
    """Two predictions per ground truth, the ground truth prepared once per batch."""
    out: dict[str, list[float]] = {f"{n}{k}": [] for n in suite.names for k in (0, 1)}
    for start in range(0, gt.shape[0], batch_size):
        target = suite.target(gt[start : start + batch_size])
        for k, pred in enumerate(preds):
            for name, tensor in suite.compute(pred[start : start + batch_size], target).items():
                out[f"{name}{k}"] += tensor.tolist()
    return out


def loop_with_baseline(
    preds: tuple[torch.Tensor, torch.Tensor], gt: torch.Tensor, lpips_model: Any
) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    for k, pred in enumerate(preds):
        out.update({f"{n}{k}": v for n, v in reference_loop(pred, gt, lpips_model).items()})
    return out


class Timing:
    """One side's wall and CPU seconds per round (CPU: this process, all threads) and its values."""

    def __init__(self, value: Any) -> None:
        self.value = value
        self.wall: list[float] = []
        self.cpu: list[float] = []


def interleaved_rounds(functions: dict[str, Callable[[], Any]], rounds: int) -> dict[str, Timing]:
    """Each function once untimed (warm-up: lazy set-up, caches, the allocator's heap), then
    ``rounds`` rounds that run every function once in turn: a slow stretch of a shared machine
    then slows both sides of the rounds it overlaps, and the medians below ignore it."""
    timings = {name: Timing(function()) for name, function in functions.items()}
    for _ in range(rounds):
        for name, function in functions.items():
            wall, cpu = time.perf_counter(), time.process_time()
            function()
            timings[name].wall.append(time.perf_counter() - wall)
            timings[name].cpu.append(time.process_time() - cpu)
    return timings


def compare(reference: Timing, ours: Timing) -> dict[str, float]:
    """Median seconds of each side and the median, lowest and highest of the per-round ratios."""
    ratios = [r / o for r, o in zip(reference.wall, ours.wall)]
    return {
        "ref_wall": statistics.median(reference.wall),
        "our_wall": statistics.median(ours.wall),
        "ref_cpu": statistics.median(reference.cpu),
        "our_cpu": statistics.median(ours.cpu),
        "ratio": statistics.median(ratios),
        "ratio_low": min(ratios),
        "ratio_high": max(ratios),
        "cpu_ratio": statistics.median(r / o for r, o in zip(reference.cpu, ours.cpu)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=8, help="frame pairs scored per run")
    parser.add_argument("--batch-size", type=int, default=4, help="framepred's batch size")
    parser.add_argument(
        "--rounds", type=int, default=5, help="timed rounds, each running both sides in turn (medians)"
    )
    parser.add_argument("--breakdown", action="store_true", help="also time each metric on its own")
    parser.add_argument("--threads", type=int, default=None, help="torch threads [default: torch's choice]")
    args = parser.parse_args()

    if args.threads is not None:
        torch.set_num_threads(args.threads)  # a benchmark script, so it may set this for itself
    pred, gt, source = load_frames(args.frames)
    state, backbone = backbone_state()
    lin = read_lin_weights(locate_lin_weights().path)
    reference_model = reference_lpips(state)
    lpips_model = LPIPS(state, lin)

    print(f"frames: {args.frames} pairs of {HEIGHT}x{WIDTH} RGB, {source}; LPIPS backbone: {backbone}")
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, one warm-up call of each side, "
        f"then {args.rounds} interleaved rounds (medians)"
    )
    subsets = [ALL] + ([(name,) for name in ALL] if args.breakdown else [])
    rows = []
    for names in subsets:
        suite = MetricSuite(names, lpips_model=lpips_model)
        timed = interleaved_rounds(
            {
                "reference": lambda names=names: reference_loop(pred, gt, reference_model, names),
                "ours": lambda suite=suite: ours(pred, gt, suite, args.batch_size),
            },
            args.rounds,
        )
        ref, our = timed["reference"].value, timed["ours"].value
        diffs = {n: float(np.max(np.abs(np.array(ref[n]) - np.array(our[n])))) for n in names}
        rows.append((names, compare(timed["reference"], timed["ours"]), diffs))

    # A model and a baseline scored against the same ground truth: the prediction and copy-last.
    copy_last = torch.roll(gt, shifts=1, dims=0)  # frame i - 1 as the guess for frame i
    suite = MetricSuite(ALL, lpips_model=lpips_model)
    timed = interleaved_rounds(
        {
            "reference": lambda: loop_with_baseline((pred, copy_last), gt, reference_model),
            "ours": lambda: ours_with_baseline((pred, copy_last), gt, suite, args.batch_size),
        },
        args.rounds,
    )
    ref, our = timed["reference"].value, timed["ours"].value
    diffs = {
        n: max(abs(a - b) for a, b in zip(ref[f"{n}0"] + ref[f"{n}1"], our[f"{n}0"] + our[f"{n}1"]))
        for n in ALL
    }
    rows.append(("+ baseline", compare(timed["reference"], timed["ours"]), diffs))

    n = args.frames
    header = (
        f"{'metrics':33} {'loop fps':>9} {'ours fps':>9} {'speed-up':>9} {'rounds':>13} "
        f"{'loop cpu-s/f':>13} {'ours cpu-s/f':>13} {'cpu ratio':>9}   max |diff| vs reference"
    )
    print()
    print(header)
    print("-" * len(header))
    for names, c, diffs in rows:
        label = {ALL: "all four", "+ baseline": "all four, 2 predictions per truth"}.get(names, names[0])
        diff_text = ", ".join(f"{k} {v:.1e}" for k, v in diffs.items())
        spread = f"{c['ratio_low']:.2f}-{c['ratio_high']:.2f}x"
        print(
            f"{label:33} {n / c['ref_wall']:9.3f} {n / c['our_wall']:9.3f} {c['ratio']:8.2f}x {spread:>13} "
            f"{c['ref_cpu'] / n:13.3f} {c['our_cpu'] / n:13.3f} {c['cpu_ratio']:9.2f}   {diff_text}"
        )
    print()
    print(
        "loop: per frame, -10 log10(MSE) + pytorch_msssim.ssim + pytorch_msssim.ms_ssim + lpips.LPIPS(alex),"
    )
    print(f"      under torch.no_grad; ours: MetricSuite.compute on batches of {args.batch_size}")
    print("fps from the median wall time of the rounds; speed-up: median of the per-round ratios (rounds:")
    print("lowest-highest); cpu-s/f = median CPU seconds of this process per frame (steadier when shared)")


if __name__ == "__main__":
    main()
