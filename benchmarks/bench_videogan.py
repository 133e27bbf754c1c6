"""Training speed of VideoGAN: seconds per iteration (one discriminator step + one generator step).

One iteration is what ``framepred train videogan`` does per round: the recipe's D phase (a generator
forward without gradients, the discriminator on real and generated videos, backward, Adam) and its
G phase (generator forward, the frozen discriminator, adversarial + reconstruction/mask loss,
backward, Adam), through the engine's NetworkSet, so freezing is as in training. Videos are random
tensors already in memory: data loading is not measured. The spec measured 0.20 s (conditional,
width 1/16, 16 frames, batch 8) and 0.30-0.31 s (width 1/8: 16 frames batch 8, 32 frames batch 4).

    python benchmarks/bench_videogan.py                 # the CPU table below, torch's default threads
    python benchmarks/bench_videogan.py --threads 1
    python benchmarks/bench_videogan.py --device cuda --width 1 --batch 32
"""

from __future__ import annotations

import argparse
import time

# (condition, width, frames, batch): the spec's three measured settings, then 32-frame ones.
CPU_CONFIGS = [
    ("image", 1 / 16, 16, 8),
    ("image", 1 / 8, 16, 8),
    ("image", 1 / 8, 32, 4),
    ("image", 1 / 16, 32, 8),
    ("image", 1 / 8, 32, 8),
    ("none", 1 / 16, 32, 8),
    ("none", 1 / 8, 32, 8),
]


def measure(condition: str, width: float, frames: int, batch: int, device: str, iterations: int) -> dict:
    import torch

    from framepred.engine.distributed import DistInfo
    from framepred.engine.networks import NetworkSet
    from framepred.tasks import create_task

    torch.manual_seed(0)
    task = create_task("videogan", condition=condition, width=width, frames=frames)
    nets = NetworkSet(task, torch.device(device), DistInfo())
    nets.wrap()
    nets.train()
    phases = task.phases()
    clips = torch.rand(batch, frames, 3, 64, 64, device=device)
    videos = next(task.step_inputs(clips))

    def iteration(step: int) -> None:
        for phase in phases:
            loss, _ = phase.loss(nets.view(phase.trains), videos, step)
            nets.update(phase.trains, loss, None)

    iteration(0)  # warm-up: allocations, oneDNN kernel selection
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    start = time.perf_counter()
    for step in range(1, iterations + 1):
        iteration(step)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    seconds = (time.perf_counter() - start) / iterations
    count = lambda name: sum(p.numel() for p in nets.bare[name].parameters()) / 1e6  # noqa: E731
    return {
        "s_per_it": seconds,
        "g_m": count("generator"),
        "d_m": count("discriminator"),
        "threads": torch.get_num_threads(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    parser.add_argument("--iterations", type=int, default=10, help="timed iterations per configuration")
    parser.add_argument("--condition", default=None, help="one configuration: image or none")
    parser.add_argument("--width", type=float, default=None)
    parser.add_argument("--frames", type=int, default=32)
    parser.add_argument("--batch", type=int, default=8)
    args = parser.parse_args()
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    if args.width is not None:
        configs = [(args.condition or "image", args.width, args.frames, args.batch)]
    else:
        configs = CPU_CONFIGS
    print(
        f"VideoGAN training iteration (D step + G step), {args.device}, "
        f"{torch.get_num_threads()} threads, {args.iterations} timed iterations after one warm-up"
    )
    print("| model | width | frames | batch | G params | D params | s / iteration | iterations / s |")
    print("|---|---|---|---|---|---|---|---|")
    for condition, width, frames, batch in configs:
        result = measure(condition, width, frames, batch, args.device, args.iterations)
        name = "conditional" if condition == "image" else "unconditional"
        scale = f"1/{round(1 / width)}" if width < 1 else f"{width:g}"
        print(
            f"| {name} | {scale} | {frames} | {batch} | {result['g_m']:.2f}M | "
            f"{result['d_m']:.2f}M | {result['s_per_it']:.3f} | {1 / result['s_per_it']:.2f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
