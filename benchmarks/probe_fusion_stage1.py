"""Why stage 1 of the fusion demo does not show in its frames: one U-Net (the demo's settings,
``--unet-steps`` steps) and one translator (the demo's, half its pairs on that U-Net's fusion images),
then every 16-in window of the demo's test split (the demo's 18 windows: 32 future frames exist), scored
over the first 16 future steps (one U-Net call, no recursion, no sharpener so only the two stages show).

Fusion space, PSNR of each 16-step prediction against the real future fusion images: the U-Net; the last
observed fusion image repeated; that image Gaussian-blurred (a prediction with no motion in it, only
softness: if the U-Net scores no better than it, its gain over repeat-last is blur, not motion).

Frame space, the translator applied to: the U-Net's fusion images (the model without sharpener); the real
future fusion images (what a perfect U-Net would give with this translator); the last observed one
repeated (no-motion); the blurred last one; and copy-last of the frames.

    flock -s /work/cpu.lock .venv/bin/python benchmarks/probe_fusion_stage1.py --work runs/probe-stage1
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from framepred.data.tree import FrameTree
from framepred.demo import fusion as demo
from framepred.engine.config import TrainConfig
from framepred.engine.trainer import train
from framepred.metrics.psnr import psnr
from framepred.models import load_model

SHOWN = (1, 2, 4, 8, 12, 16)
SIGMAS = (1.0, 2.0, 3.0)


def gaussian_blur(images: torch.Tensor, sigma: float) -> torch.Tensor:
    """``N x C x H x W`` images blurred by a separable Gaussian (reflected borders)."""
    radius = max(1, math.ceil(3 * sigma))
    offsets = torch.arange(-radius, radius + 1, dtype=images.dtype)
    kernel = torch.exp(-(offsets**2) / (2 * sigma**2))
    kernel = kernel / kernel.sum()
    channels = images.shape[1]
    padded = F.pad(images, (radius, radius, radius, radius), mode="reflect")
    across = F.conv2d(padded, kernel.view(1, 1, 1, -1).repeat(channels, 1, 1, 1), groups=channels)
    return F.conv2d(across, kernel.view(1, 1, -1, 1).repeat(channels, 1, 1, 1), groups=channels)


def as_clip(frames: list[np.ndarray]) -> torch.Tensor:
    return torch.from_numpy(np.stack(frames)).permute(0, 3, 1, 2).float().div(255.0)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--unet-loss", default="mse")
    parser.add_argument("--unet-steps", type=int, default=400)
    parser.add_argument("--unet-lr", type=float, default=1e-3)
    parser.add_argument("--translator-steps", type=int, default=300)
    parser.add_argument("--minutes", type=float, default=9.0, help="Per stage, at most (steps decide).")
    parser.add_argument("--limit", type=int, default=None, help="Score only the first N test windows.")
    args = parser.parse_args()
    torch.set_num_threads(1)
    data, fusion = demo.demo_trees(args.work, 0)
    name = f"{args.unet_loss}-{args.unet_steps}-lr{args.unet_lr:g}"
    run = args.work / name

    def config(stage: str, steps: int, batch: int, extra: dict) -> TrainConfig:
        return TrainConfig(
            task="fusion", data=str(fusion), run_dir=str(run), stage=stage, steps=steps, batch_size=batch,
            seed=0, device="cpu", save_every=steps, val_every=steps, val_split="test", val_samples=4,
            log_every=max(steps // 4, 10), max_minutes=args.minutes,
            task_options={**demo.MODEL, **extra, "unet_loss": args.unet_loss, "unet_lr": args.unet_lr},
        )  # fmt: skip

    # Each stage is trained once and kept: a rerun (after a time limit) only scores.
    if not (run / "stages" / "unet" / "checkpoints" / "last").is_dir():
        train(config("unet", args.unet_steps, 4, demo.UNET))
    if not (run / "stages" / "translator" / "checkpoints" / "last").is_dir():
        translator = {**demo.FAST_GAN, **demo.WHOLE, **demo.ON_PREDICTED}
        train(config("translator", args.translator_steps, 1, translator))
    model = load_model(run / "checkpoints" / "last" / "model.safetensors", device="cpu").model.eval()
    context, horizon = model.context_frames, model.frames_per_call

    rows: dict[str, list[list[float]]] = {}

    def add(label: str, predicted: torch.Tensor, truth: torch.Tensor) -> None:
        rows.setdefault(label, []).append(psnr(predicted, truth).tolist())

    frame_seqs = FrameTree(data).sequences("test")
    fusion_seqs = FrameTree(fusion).sequences("test")
    for frame_seq, fusion_seq in zip(frame_seqs, fusion_seqs, strict=True):
        frames, fused = as_clip(frame_seq.read_all()), as_clip(fusion_seq.read_all())
        for start in range(len(frames) - context - demo.STEPS + 1):
            if args.limit is not None and len(rows.get("frames: copy-last", [])) >= args.limit:
                break
            past, future = fused[start : start + context], fused[start + context : start + context + horizon]
            real = frames[start + context : start + context + horizon]
            with torch.no_grad():
                predicted = model.predict_fusion(past[None])[0]
                last = past[-1:].expand(horizon, -1, -1, -1)
                add("fusion: U-Net", predicted, future)
                add("fusion: repeat last", last, future)
                blurred = {sigma: gaussian_blur(past[-1:], sigma).expand_as(last) for sigma in SIGMAS}
                for sigma, image in blurred.items():
                    add(f"fusion: repeat last, blurred sigma {sigma:g}", image, future)
                translate = lambda images: model.translate(images[None], sharpen=False)[0]  # noqa: E731
                add("frames: translator(U-Net fusion)", translate(predicted), real)
                add("frames: translator(real future fusion)", translate(future), real)
                add("frames: translator(last fusion) = no-motion", translate(last), real)
                for sigma, image in blurred.items():
                    add(f"frames: translator(last fusion blurred sigma {sigma:g})", translate(image), real)
                add("frames: copy-last", frames[start + context - 1 : start + context].expand_as(real), real)
    count = len(next(iter(rows.values())))
    print(f"{name}: {count} windows; PSNR dB per step (first {horizon} future steps) and mean")
    print("| prediction | " + " | ".join(f"t+{k}" for k in SHOWN) + " | mean |")
    print("|---" * (len(SHOWN) + 2) + "|")
    table = {}
    for label, per_window in rows.items():
        per_step = np.mean(np.array(per_window), axis=0)
        table[label] = per_step.tolist()
        cells = " | ".join(f"{per_step[k - 1]:.2f}" for k in SHOWN)
        print(f"| {label} | {cells} | {per_step.mean():.2f} |")
    (args.work / f"{name}.json").write_text(json.dumps({"windows": count, "per_step": table}, indent=1))


if __name__ == "__main__":
    main()
