"""DMVFN inference speed: frames per second and peak memory per frame size and routing mode.

Every variant runs the same random-weight network on the same input, round-robin (one call of each
variant per round, so a busy machine slows them all alike), and the table reports the median. The
"reference" row is a straightforward fp32 implementation of the official test loop: NCHW tensors,
``torch.no_grad``, the router always evaluated, every block computed (gates forced on, as "DMVFN
without routing"), a fresh concatenation per block and a fused frame after each. The ablation rows
switch on framepred's optimisations one at a time.

    .venv/bin/python benchmarks/bench_dmvfn_infer.py                 # 256x448 and 512x1024
    .venv/bin/python benchmarks/bench_dmvfn_infer.py --sizes 1024x2048 --rounds 2

Note: with random weights the router's probabilities sit near 0.5, so "threshold" and "sample" run
about half of the blocks, as trained checkpoints do on average (4.5 of 9 expected).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F

from framepred.engine.device import resolve_device
from framepred.inference import Predictor
from framepred.models import create_model
from framepred.models.dmvfn import DMVFN


def reference_predict(model: DMVFN, x: torch.Tensor) -> torch.Tensor:
    """The official test path, written plainly: router, then every block, fusion after each."""
    model.routing_probabilities(x)  # the official code always evaluates the router
    img0, img1 = x[:, :3], x[:, 3:6]
    flow = torch.zeros_like(x[:, :4])
    mask = torch.zeros_like(x[:, :1])
    warped0, warped1 = img0, img1
    merged = []
    for block, scale in zip(model.blocks(), model.config.scales):
        flow_delta, mask_delta = block(torch.cat([img0, img1, warped0, warped1, mask], 1), flow, scale)
        flow, mask = flow + flow_delta, mask + mask_delta
        warped0, warped1 = _warp(img0, flow[:, :2]), _warp(img1, flow[:, 2:4])
        weight = torch.sigmoid(mask)
        merged.append((warped0 * weight + warped1 * (1 - weight)).clamp(0, 1))
    return merged[-1]


def _warp(image: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    batch, _, height, width = flow.shape
    xs = torch.linspace(-1, 1, width, device=flow.device).view(1, 1, 1, width).expand(batch, -1, height, -1)
    ys = torch.linspace(-1, 1, height, device=flow.device).view(1, 1, height, 1).expand(batch, -1, -1, width)
    grid = torch.cat([xs, ys], 1)
    flow = torch.cat([flow[:, 0:1] / ((width - 1) / 2), flow[:, 1:2] / ((height - 1) / 2)], 1)
    return F.grid_sample(image, (grid + flow).permute(0, 2, 3, 1), "bilinear", "border", align_corners=True)


def peak_memory_mib(size: str, name: str, device: torch.device) -> float:
    """Extra memory one call of a variant needs at its peak. On CUDA: the allocator's peak. On the
    CPU: measured in a fresh process, because freed memory stays in this process's heap and would
    hide the next variant's peak."""
    if device.type == "cuda":
        height, width = _parse(size)
        fn = variants(height, width, device)[name][0]
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
        base = torch.cuda.memory_allocated(device)
        fn()
        return (torch.cuda.max_memory_allocated(device) - base) / 2**20
    command = [sys.executable, __file__, "--memory-of", name, "--sizes", size, "--device", str(device)]
    command += ["--threads", str(torch.get_num_threads())]
    return float(subprocess.run(command, capture_output=True, text=True, check=True).stdout.strip())


def _measure_here(size: str, name: str, device: torch.device) -> None:
    fn = variants(*_parse(size), device)[name][0]
    with open("/proc/self/clear_refs", "w") as handle:
        handle.write("5")  # reset the peak resident set size (VmHWM) to the current one
    before = _status_kib("VmRSS")
    fn()
    print(max(0, _status_kib("VmHWM") - before) / 1024)


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {field}")


def _parse(size: str) -> tuple[int, int]:
    height, width = (int(v) for v in size.lower().split("x"))
    return height, width


def variants(height: int, width: int, device: torch.device) -> dict[str, tuple[Callable[[], object], str]]:
    torch.manual_seed(0)
    plain = create_model("dmvfn", routing="all").eval().to(device)
    x = torch.rand(1, 6, height, width, device=device)
    context = torch.stack([x[:, :3], x[:, 3:]], 1)
    state = plain.state_dict()

    def predictor(routing: str) -> Predictor:
        model = create_model("dmvfn", routing=routing)
        model.load_state_dict(state)
        return Predictor(model, "RGB", device)

    fast = {routing: predictor(routing) for routing in ("all", "threshold", "sample")}
    fast_model = fast["all"].model
    x_cl = x.contiguous(memory_format=torch.channels_last)

    def under(mode: Callable, fn: Callable) -> Callable:
        def run() -> object:
            with mode():
                return fn()

        return run

    def blocks_run(routing: str) -> str:
        with torch.no_grad():
            return str(int(fast[routing].model._test_gates(x).sum()))

    return {
        "reference: NCHW, no_grad, router + 9 blocks": (
            under(torch.no_grad, lambda: reference_predict(plain, x)),
            "9",
        ),
        "all: NCHW, no_grad": (under(torch.no_grad, lambda: plain(x, training=False)[-1]), "9"),
        "all: channels_last, no_grad": (
            under(torch.no_grad, lambda: fast_model(x_cl, training=False)[-1]),
            "9",
        ),
        "all: channels_last, inference_mode (Predictor)": (lambda: fast["all"].predict_batch(context), "9"),
        "threshold (Predictor)": (lambda: fast["threshold"].predict_batch(context), blocks_run("threshold")),
        "sample, seed 1234 (Predictor)": (
            lambda: fast["sample"].predict_batch(context),
            blocks_run("sample"),
        ),
    }


def bench_size(size: str, device: torch.device, rounds: int) -> list[tuple[str, str, float, float]]:
    runs = variants(*_parse(size), device)
    times: dict[str, list[float]] = {name: [] for name in runs}
    memory = {name: peak_memory_mib(size, name, device) for name in runs}
    for fn, _ in runs.values():  # warm-up
        fn()
    for _ in range(rounds):
        for name, (fn, _) in runs.items():
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            start = time.perf_counter()
            fn()
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            times[name].append(time.perf_counter() - start)
    return [
        (name, blocks, statistics.median(times[name]), memory[name]) for name, (_, blocks) in runs.items()
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="256x448,512x1024", help="comma-separated HxW list")
    parser.add_argument("--rounds", type=int, default=3, help="timed calls per variant (median reported)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=0, help="CPU threads (default: torch's choice)")
    parser.add_argument("--memory-of", help=argparse.SUPPRESS)  # internal: one variant's peak memory
    args = parser.parse_args()
    device = resolve_device(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.memory_of:
        _measure_here(args.sizes, args.memory_of, device)
        return
    print(f"device {device}, torch {torch.__version__}, {torch.get_num_threads()} threads, batch 1, fp32\n")
    header = f"| {'size':>9} | {'variant':<46} | blocks | {'s/frame':>7} | {'fps':>6} | vs ref | peak MiB |"
    print(header)
    print("|" + "|".join("-" * (len(part)) for part in header.split("|")[1:-1]) + "|")
    for size in args.sizes.split(","):
        rows = bench_size(size, device, args.rounds)
        reference = rows[0][2]
        for name, blocks, seconds, mib in rows:
            print(
                f"| {size:>9} | {name:<46} | {blocks:>6} | {seconds:7.3f} | {1 / seconds:6.2f} "
                f"| {reference / seconds:5.2f}x | {mib:8.0f} |"
            )


if __name__ == "__main__":
    main()
