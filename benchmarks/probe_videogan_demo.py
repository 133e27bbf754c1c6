"""Where the VideoGAN demo's error comes from: the mask and foreground, or the background correction?

Trains the demo's conditional VideoGAN (its data, width and ``--input-background``) for ``--rounds``
rounds on one thread, then scores the 4 test videos per step (frames 1-31 from frame 0) three ways:

* ``video``: what the model makes, ``m * f + (1 - m) * (x + b)``;
* ``background only``: the mask forced to 0, the input image plus the background correction;
* ``copy-last``: the input image repeated;

and prints the mean mask per step. ``--start v1`` starts as the first version of
``--input-background`` did (background head N(0, 0.01), mask logit -3); ``--no-correction`` freezes
the background correction at 0, so the background is the input image and only the (time-varying)
mask and foreground can change a frame.

    python benchmarks/probe_videogan_demo.py --future-weight 10 --start v1   # the first demo options
    python benchmarks/probe_videogan_demo.py --future-weight 100             # the demo's options now
    python benchmarks/probe_videogan_demo.py --future-weight 100 --no-correction
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import torch
from torch import nn

from framepred.data.tree import FrameTree
from framepred.demo.videogan import BATCH, DEMO_TASK, FRAMES, TABLE_STEPS, falling_discs_tree
from framepred.engine.config import TrainConfig
from framepred.engine.trainer import train
from framepred.inference.predictor import Predictor
from framepred.tasks.videogan import VideoGANTask


def psnr_per_frame(video: torch.Tensor, truth: torch.Tensor) -> torch.Tensor:
    """PSNR of every frame (in [0, 1]) of two ``3 x T x H x W`` videos in [-1, 1]."""
    mse = (((video.clamp(-1, 1) - truth) / 2) ** 2).mean((0, 2, 3))
    return 10 * torch.log10(1 / mse)


def patch_start(start: str, no_correction: bool) -> None:
    build = VideoGANTask.build_networks

    def patched(self: VideoGANTask) -> dict[str, nn.Module]:
        nets = build(self)
        head = nets["generator"].background.head
        if start == "v1":
            nn.init.normal_(head.weight, 0.0, 0.01)
            nn.init.constant_(nets["generator"].foreground.mask.bias, -3.0)
        if no_correction:
            nn.init.zeros_(head.weight)
            head.weight.requires_grad_(False)
            head.bias.requires_grad_(False)
        return nets

    VideoGANTask.build_networks = patched


def main() -> None:
    raw = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=raw)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--future-weight", type=float, default=DEMO_TASK["future_weight"])
    parser.add_argument("--start", choices=("now", "v1"), default="now")
    parser.add_argument("--no-correction", action="store_true")
    parser.add_argument("--input-foreground", action="store_true", help="foreground starts at the input too")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    patch_start(args.start, args.no_correction)
    with tempfile.TemporaryDirectory() as folder:
        data = falling_discs_tree(Path(folder) / "data", args.seed)
        run = Path(folder) / "run"
        task_options = {**DEMO_TASK, "future_weight": args.future_weight}
        task_options["input_foreground"] = args.input_foreground
        config = TrainConfig(
            task="videogan", data=str(data), run_dir=str(run), steps=args.rounds, batch_size=BATCH,
            seed=args.seed, device="cpu", task_options=task_options,
            save_every=args.rounds, val_every=max(args.rounds // 4, 25), val_split="test", val_samples=4,
            log_every=max(args.rounds // 4, 25),
        )  # fmt: skip
        train(config)
        weights = run / "checkpoints" / "last" / "model.safetensors"
        model = Predictor.from_checkpoint(weights, device="cpu").model.eval()
        names = ("video", "background only", "copy-last", "mask")
        rows: dict[str, list[torch.Tensor]] = {name: [] for name in names}
        for sequence in FrameTree(data).sequences("test"):
            frames = np.stack(sequence.read_all()[:FRAMES])
            truth = torch.from_numpy(frames).float().div(255).permute(3, 0, 1, 2) * 2 - 1
            image = truth[:, 0]
            with torch.no_grad():
                streams = model(image[None])
            rows["video"].append(psnr_per_frame(streams.video[0], truth))
            background = streams.background[0, :, None].expand_as(truth)
            rows["background only"].append(psnr_per_frame(background, truth))
            rows["copy-last"].append(psnr_per_frame(image[:, None].expand_as(truth), truth))
            rows["mask"].append(streams.mask[0].mean((0, 2, 3)))
    print(f"{args.rounds} rounds, future weight {args.future_weight}, start {args.start}, "
          f"correction {'frozen at 0' if args.no_correction else 'trained'}, "
          f"input foreground {args.input_foreground}")  # fmt: skip
    print("| PSNR (dB) | " + " | ".join(f"t+{t}" for t in TABLE_STEPS) + " | mean |")
    print("|---" * (len(TABLE_STEPS) + 2) + "|")
    for name, values in rows.items():
        mean = torch.stack(values).mean(0)
        cells = " | ".join(f"{float(mean[t]):.2f}" for t in TABLE_STEPS)
        print(f"| {name} | {cells} | {float(mean[1:].mean()):.2f} |")


if __name__ == "__main__":
    main()
