"""What limits the DMVFN demo: is the motion predictable, is the loss usable, does a network learn it?

Runs on the demo's own synthetic data (64x64, 32 training and 8 test sequences of 12 frames, seed 0)
and on the same generator with no objects (camera pan and zoom only, the easiest motion it makes).
Prints one table per question:

1. Classical optical flow, no learning: OpenCV's Farneback and DIS flow from frame t to t-1, used to
   warp frame t once more (constant velocity), against copy-last. Shows how much of the next frame
   motion alone predicts.
2. The loss: a per-pixel flow field optimised directly (Adam, ``--flow-iterations``, 300) to warp
   frame t onto frame t+1 with DMVFN's Laplacian loss, on the first test sequence. Shows that the
   warp and the loss give a usable gradient.
3. Learning: a single DMVFN block (MVFB, 32 features, routing all) trained from scratch on random
   triplets with the Laplacian loss for ``--steps`` steps (batch 4, AdamW 1e-3), test PSNR every
   quarter; and the same block trained on only 10 test triplets (can it fit them at all?).

    python benchmarks/probe_demo_motion.py                # about 3 minutes on 2 cores
    python benchmarks/probe_demo_motion.py --steps 4000   # the longer run of docs/training.md
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import cv2
import numpy as np
import torch

from framepred.data.synthetic import SyntheticConfig, prepare_synthetic
from framepred.data.tree import FrameTree
from framepred.losses.pixel import LaplacianLoss
from framepred.models.dmvfn import backward_warp
from framepred.models.registry import create_model


def psnr(prediction: torch.Tensor, truth: torch.Tensor) -> float:
    """Mean over the batch of per-frame PSNR, frames in [0, 1]."""
    mse = ((prediction.clamp(0, 1) - truth) ** 2).mean((1, 2, 3))
    return float((10 * torch.log10(1 / mse)).mean())


def triplets(tree: Path, split: str) -> torch.Tensor:
    """Every consecutive (t-1, t, t+1) of a split, stacked on channels: N x 9 x H x W in [0, 1]."""
    stacks = []
    for sequence in FrameTree(tree).sequences(split):
        frames = torch.from_numpy(np.stack(sequence.read_all()).astype(np.float32) / 255).permute(0, 3, 1, 2)
        stacks.append(torch.cat([frames[:-2], frames[1:-1], frames[2:]], 1))
    return torch.cat(stacks)


def classical_flow(tree: Path) -> dict[str, float]:
    scores: dict[str, list[float]] = {"copy-last": [], "Farneback flow": [], "DIS flow": []}
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    for sequence in FrameTree(tree).sequences("test"):
        frames = sequence.read_all()
        for before, now, after in zip(frames, frames[1:], frames[2:], strict=False):
            grey_before, grey_now = (cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in (before, now))
            height, width = grey_now.shape
            ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
            flows = {
                "Farneback flow": cv2.calcOpticalFlowFarneback(
                    grey_now, grey_before, None, 0.5, 3, 9, 5, 5, 1.1, 0
                ),
                "DIS flow": dis.calc(grey_now, grey_before, None),
            }
            truth = after.astype(np.float64)
            scores["copy-last"].append(10 * np.log10(255**2 / np.mean((now - truth) ** 2)))
            for name, flow in flows.items():
                # Where a pixel of t came from in t-1 is where a pixel of t+1 comes from in t.
                predicted = cv2.remap(
                    now,
                    xs + flow[..., 0],
                    ys + flow[..., 1],
                    cv2.INTER_LINEAR,
                    borderMode=cv2.BORDER_REPLICATE,
                )
                scores[name].append(10 * np.log10(255**2 / np.mean((predicted - truth) ** 2)))
    return {name: float(np.mean(values)) for name, values in scores.items()}


def direct_flow(tree: Path, iterations: int) -> dict[str, float]:
    x = triplets(tree, "test")[:10]  # the first test sequence
    now, truth = x[:, 3:6], x[:, 6:9]
    flow = torch.zeros(len(x), 2, *now.shape[-2:], requires_grad=True)
    optimiser = torch.optim.Adam([flow], lr=0.05)
    loss = LaplacianLoss(5)
    for _ in range(iterations):
        value = loss(backward_warp(now, flow), truth)
        optimiser.zero_grad()
        value.backward()
        optimiser.step()
    with torch.no_grad():
        return {"copy-last": psnr(now, truth), "optimised flow": psnr(backward_warp(now, flow), truth)}


def learn(train: torch.Tensor, test: torch.Tensor, steps: int) -> list[float]:
    torch.manual_seed(0)
    block = create_model("dmvfn", features=[32], scales=[1], routing="all")
    optimiser = torch.optim.AdamW(block.parameters(), lr=1e-3, weight_decay=1e-3)
    loss = LaplacianLoss(5)
    generator = torch.Generator().manual_seed(0)
    curve = []
    for step in range(1, steps + 1):
        batch = train[torch.randint(len(train), (4,), generator=generator)]
        value = loss(block(batch, None, True)[-1], batch[:, 6:9])
        optimiser.zero_grad()
        value.backward()
        optimiser.step()
        if step % (steps // 4) == 0:
            with torch.no_grad():
                curve.append(psnr(block(test, None, True)[-1], test[:, 6:9]))
    return curve


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000, help="training steps of part 3")
    parser.add_argument(
        "--flow-iterations", type=int, default=300, help="Adam iterations of the flow field of part 2"
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as folder:
        trees = {}
        for name, objects in (("demo data", (2, 5)), ("camera only", (0, 0))):
            trees[name] = Path(folder) / name.replace(" ", "_")
            config = SyntheticConfig(
                train=32, test=8, frames=12, width=64, height=64, seed=0, objects=objects
            )
            prepare_synthetic(trees[name], config)
        print("1. next-frame PSNR (dB) on the test split, no learning")
        for name, tree in trees.items():
            print(f"   {name:12s}", "  ".join(f"{k} {v:.2f}" for k, v in classical_flow(tree).items()))
        print("2. a flow field optimised directly with the Laplacian loss (first test sequence)")
        for name, tree in trees.items():
            print(
                f"   {name:12s}",
                "  ".join(f"{k} {v:.2f}" for k, v in direct_flow(tree, args.flow_iterations).items()),
            )
        print(f"3. one MVFB trained from scratch, test PSNR (dB) after each quarter of {args.steps} steps")
        for name, tree in trees.items():
            train, test = triplets(tree, "train"), triplets(tree, "test")
            copy = psnr(test[:, 3:6], test[:, 6:9])
            curve = learn(train, test, args.steps)
            print(f"   {name:12s} copy-last {copy:.2f}  block " + ", ".join(f"{v:.2f}" for v in curve))
        test = triplets(trees["demo data"], "test")[:10]
        curve = learn(test, test, args.steps)
        print(
            f"   fitting 10 test triplets: copy-last {psnr(test[:, 3:6], test[:, 6:9]):.2f}  block "
            + ", ".join(f"{v:.2f}" for v in curve)
        )


if __name__ == "__main__":
    main()
