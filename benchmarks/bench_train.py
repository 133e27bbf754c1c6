"""Training throughput: optimiser steps (DMVFN) or D+G iterations (msgan) per second and peak memory,
fp32 vs mixed precision.

One step is what ``framepred train dmvfn`` does per triplet: the 9-output training forward, the
Laplacian loss over every output (plus VGG19 when its weights are on disk), backward, AdamW. Inputs
are random 256x256 crops (the official size) already on the device, so data loading is not measured.
Each configuration runs in its own process so peak memory is its own.

    python benchmarks/bench_train.py                       # CPU: batch 2, fp32 and bf16
    python benchmarks/bench_train.py --device cuda          # GPU: batch 8, fp32, bf16, fp16 (+ --compile)

``--model msgan`` measures one iteration of the multi-scale adversarial recipe instead: a
discriminator update then a generator update (Lp + GDL + adversarial through the frozen
discriminators), each with its own SGD optimizer, on random 32x32 clips of 5 frames (batch 8 by
default), at ``--width`` (default 0.125; 1.0 is the paper's network).

    python benchmarks/bench_train.py --model msgan                 # CPU: width 0.125, batch 8
    python benchmarks/bench_train.py --model msgan --width 1.0     # the paper's full-width networks

``--engine`` measures instead the whole ``framepred train dmvfn`` loop (data loading, augmentation,
the engine's phases, logging) on a synthetic tree, from the steps/s in metrics.csv; with
``--baseline-src DIR`` (a checkout of another framepred version, e.g. ``git worktree add DIR REV``)
both versions run alternately in the same invocation and the table gives their ratio.

    python benchmarks/bench_train.py --engine --baseline-src /tmp/framepred-before
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time


def timed(step, device: str, steps: int, warmup: int) -> tuple[float, float]:
    """``step`` per second over ``steps`` calls after ``warmup`` ones, and peak memory in MiB (the GPU's
    allocations on CUDA, else the process's peak resident set)."""
    import resource

    import torch

    cuda = device.startswith("cuda")
    for _ in range(warmup):
        step()
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    if cuda:
        torch.cuda.synchronize()
    elapsed = time.perf_counter() - start
    if cuda:
        return steps / elapsed, torch.cuda.max_memory_allocated() / 2**20
    return steps / elapsed, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def measure(
    device: str, batch: int, crop: int, amp: str, compile_model: bool, steps: int, warmup: int
) -> dict:
    import torch

    from framepred.tasks import create_task

    torch.manual_seed(0)
    task = create_task("dmvfn", crop=crop, perceptual=True)
    try:
        task.setup(torch.device(device))
    except Exception:  # no VGG19 file here: measure without the perceptual term
        task = create_task("dmvfn", crop=crop, perceptual=False)
        task.setup(torch.device(device))
    model = task.build_model().to(device)
    optimizer = task.configure_optimizer(model)
    forward = torch.compile(model) if compile_model else model
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(amp)
    scaler = torch.amp.GradScaler(device.split(":")[0], enabled=amp == "fp16")
    inputs = torch.rand(batch, 9, crop, crop, device=device)

    def step() -> None:
        with torch.autocast(device.split(":")[0], dtype=dtype, enabled=dtype is not None):
            loss, _ = task.loss(forward, inputs)
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()

    steps_per_s, peak_mb = timed(step, device, steps, warmup)
    return {
        "steps_per_s": steps_per_s,
        "peak_mb": peak_mb,
        "perceptual": task.vgg is not None,
        "threads": torch.get_num_threads(),
    }


def measure_msgan(
    device: str, batch: int, crop: int, amp: str, width: float, steps: int, warmup: int
) -> dict:
    import torch

    from framepred.engine.distributed import DistInfo
    from framepred.engine.networks import NetworkSet
    from framepred.tasks import create_task

    torch.manual_seed(0)
    task = create_task("msgan", width=width, crop=crop)
    nets = NetworkSet(task, torch.device(device), DistInfo(), amp=amp)
    nets.wrap()
    nets.set_learning_rates(task.learning_rates(0, 1))
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(amp)
    clips = torch.rand(batch, 5, 3, crop, crop, device=device) * 2 - 1
    device_type = device.split(":")[0]

    def iteration() -> None:
        for phase in task.phases():  # D, then G, as the engine runs them
            with torch.autocast(device_type, dtype=dtype, enabled=dtype is not None):
                loss, _ = phase.loss(nets.view(phase.trains), clips, 1)
            nets.update(phase.trains, loss, None)

    steps_per_s, peak_mb = timed(iteration, device, steps, warmup)
    parameters = {name: sum(p.numel() for p in net.parameters()) for name, net in nets.bare.items()}
    return {
        "steps_per_s": steps_per_s,
        "peak_mb": peak_mb,
        "threads": torch.get_num_threads(),
        "parameters": parameters,
    }


def msgan_table(args: argparse.Namespace) -> None:
    cuda = args.device.startswith("cuda")
    batch = args.batch or 8
    crop = args.crop if args.crop != 256 else 32
    steps = args.steps or (50 if cuda else 20)
    rows = []
    for amp in ["none", "bf16"] + (["fp16"] if cuda else []):
        command = [
            sys.executable, __file__, "--model", "msgan", "--device", args.device, "--batch", str(batch),
            "--crop", str(crop), "--width", str(args.width), "--steps", str(steps), "--one", f"{amp},0",
        ]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            rows.append((amp, None, done.stderr.strip().splitlines()[-1]))
            continue
        rows.append((amp, json.loads(done.stdout.strip().splitlines()[-1]), ""))
    base = next((r[1]["steps_per_s"] for r in rows if r[1] and r[0] == "none"), None)
    sizes = next((r[1]["parameters"] for r in rows if r[1]), {})
    memory = "peak CUDA MiB" if cuda else "peak RSS MiB"
    counts = ", ".join(f"{name} {count / 1e6:.2f}M" for name, count in sizes.items())
    threads = next((r[1]["threads"] for r in rows if r[1]), "?")
    print(
        f"msgan D+G iteration, {args.device} ({threads} torch threads), width {args.width} ({counts} "
        f"parameters), batch {batch}, {crop}x{crop} clips of 5 frames, {steps} timed iterations"
    )
    print(f"| precision | iterations/s | s/iteration | x fp32 | {memory} |")
    print("|---|---|---|---|---|")
    for amp, result, error in rows:
        name = "fp32" if amp == "none" else f"{amp} AMP"
        if result is None:
            print(f"| {name} | failed: {error} | | | |")
            continue
        speed = result["steps_per_s"]
        ratio = f"{speed / base:.2f}" if base else "-"
        print(f"| {name} | {speed:.2f} | {1 / speed:.3f} | {ratio} | {result['peak_mb']:.0f} |")


def engine_rate(source: str, tree: str, run_dir: str, steps: int, batch: int, crop: int) -> float:
    """Steps per second of ``framepred train dmvfn`` from the framepred in ``source`` (timed from the
    second logged step, so start-up and the first step's allocations are excluded)."""
    import csv
    import os

    command = [
        sys.executable, "-m", "framepred", "train", "dmvfn", "--data", tree, "--run-dir", run_dir,
        "--steps", str(steps), "--batch-size", str(batch), "--crop", str(crop), "--clip-frames", "10",
        "--no-perceptual", "--val-every", str(10 * steps), "--save-every", str(10 * steps),
        "--device", "cpu", "--seed", "0",
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": source}
    subprocess.run(command, cwd=source, env=env, check=True, capture_output=True)
    with open(os.path.join(run_dir, "metrics.csv"), newline="") as handle:
        elapsed = [float(r["elapsed_s"]) for r in csv.DictReader(handle) if r["kind"] == "train"]
    return (len(elapsed) - 1) / (elapsed[-1] - elapsed[0])


def engine_table(args: argparse.Namespace) -> None:
    import os
    import statistics
    import tempfile

    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    sources = {"this checkout": here}
    if args.baseline_src:
        sources["baseline"] = os.path.abspath(args.baseline_src)
    with tempfile.TemporaryDirectory() as work:
        tree = os.path.join(work, "tree")
        side = args.crop + 32
        subprocess.run(
            [sys.executable, "-m", "framepred", "prepare", "synthetic", "-o", tree, "--train", "4",
             "--test", "1", "--frames", "12", "--size", f"{side}x{side}"],
            cwd=here, check=True, capture_output=True,
        )  # fmt: skip
        rates: dict[str, list[float]] = {name: [] for name in sources}
        for repeat in range(args.repeats):  # alternate, so drifting machine load hits both alike
            for name, source in sources.items():
                run_dir = os.path.join(work, f"{name.replace(' ', '_')}-{repeat}")
                rates[name].append(
                    engine_rate(source, tree, run_dir, args.steps or 30, args.batch or 2, args.crop)
                )
    print(
        f"framepred train dmvfn (whole loop), cpu, batch {args.batch or 2}, {args.crop}x{args.crop} crops, "
        f"{args.steps or 30} steps, median of {args.repeats} alternating runs"
    )
    print("| version | steps/s (runs) | x baseline |")
    print("|---|---|---|")
    base = statistics.median(rates["baseline"]) if "baseline" in rates else None
    for name, values in rates.items():
        median = statistics.median(values)
        ratio = f"{median / base:.3f}" if base else "-"
        print(f"| {name} | {median:.3f} ({', '.join(f'{v:.3f}' for v in values)}) | {ratio} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=["dmvfn", "msgan"], default="dmvfn", help="which recipe")
    parser.add_argument("--width", type=float, default=0.125, help="msgan: channel multiplier")
    parser.add_argument("--engine", action="store_true", help="time the whole `framepred train` loop")
    parser.add_argument("--baseline-src", help="with --engine: another framepred checkout to compare")
    parser.add_argument("--repeats", type=int, default=3, help="with --engine: alternating runs per version")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch", type=int, default=None, help="default: 8 on CUDA, 2 on the CPU")
    parser.add_argument("--crop", type=int, default=256)
    parser.add_argument("--steps", type=int, default=None, help="timed steps (default: 20 CUDA, 3 CPU)")
    parser.add_argument("--compile", action="store_true", help="also measure torch.compile")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # internal: run one configuration, print JSON
    args = parser.parse_args()
    if args.model == "msgan" and args.one:
        amp = args.one.split(",")[0]
        result = measure_msgan(args.device, args.batch, args.crop, amp, args.width, args.steps, 3)
        print(json.dumps(result))
        return
    if args.model == "msgan":
        msgan_table(args)
        return
    if args.engine:
        engine_table(args)
        return
    cuda = args.device.startswith("cuda")
    batch = args.batch or (8 if cuda else 2)
    steps = args.steps or (20 if cuda else 3)
    if args.one:
        amp, compiled = args.one.split(",")
        result = measure(args.device, batch, args.crop, amp, compiled == "1", steps, 3 if cuda else 1)
        print(json.dumps(result))
        return
    configs = [("none", "0"), ("bf16", "0")] + ([("fp16", "0")] if cuda else [])
    if args.compile:
        configs += [("none", "1"), ("bf16", "1")]
    rows = []
    for amp, compiled in configs:
        command = [
            sys.executable,
            __file__,
            "--device",
            args.device,
            "--batch",
            str(batch),
            "--crop",
            str(args.crop),
        ]
        command += ["--steps", str(steps), "--one", f"{amp},{compiled}"]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            rows.append((amp, compiled, None, done.stderr.strip().splitlines()[-1]))
            continue
        rows.append((amp, compiled, json.loads(done.stdout.strip().splitlines()[-1]), ""))
    base = next((r[2]["steps_per_s"] for r in rows if r[2] and r[0] == "none" and r[1] == "0"), None)
    memory = "peak CUDA MiB" if cuda else "peak RSS MiB"
    print(
        f"DMVFN training step, {args.device}, batch {batch}, {args.crop}x{args.crop} crops, "
        f"{steps} timed steps"
    )
    print(f"| precision | compile | steps/s | x fp32 | {memory} | VGG term |")
    print("|---|---|---|---|---|---|")
    for amp, compiled, result, error in rows:
        name = "fp32" if amp == "none" else f"{amp} AMP"
        if result is None:
            print(f"| {name} | {'yes' if compiled == '1' else 'no'} | failed: {error} | | | |")
            continue
        speed = result["steps_per_s"]
        ratio = f"{speed / base:.2f}" if base else "-"
        vgg = "yes" if result["perceptual"] else "no (weights absent)"
        compiled_text = "yes" if compiled == "1" else "no"
        print(f"| {name} | {compiled_text} | {speed:.3f} | {ratio} | {result['peak_mb']:.0f} | {vgg} |")


if __name__ == "__main__":
    main()
