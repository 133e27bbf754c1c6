"""What the fusion demo's frames depend on, compared by steps (single-threaded, so two can run side by
side): its U-Net (400 steps on the demo's synthetic data, with --unet-loss) scored in fusion space, then
from that one U-Net a translator trained on real fusion images only (600 steps of 8 pairs, the old demo)
and one trained with half its pairs on the U-Net's predicted fusion images (300 steps of one clip, 16
pairs), each followed by the demo's sharpener; PSNR per step of the frames beside the no-motion
baseline and copy-last. Numbers in docs/fusion.md.

    python benchmarks/probe_fusion_demo.py --work runs/probe-fusion \
        --unet-loss mse
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import torch

from framepred.demo import fusion as demo
from framepred.engine.config import TrainConfig
from framepred.engine.trainer import train
from framepred.metrics.evaluate import evaluate_tree

SHOWN = (1, 2, 4, 8, 16, 17, 24, 32)
TRANSLATORS = {  # name -> (steps, batch, options)
    "real pairs only": (600, 8, {}),
    "half on predicted fusion": (300, 1, {"translator_predicted": 0.5}),
}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--unet-loss", default="l1-ssim")
    parser.add_argument("--minutes", type=float, default=60.0, help="Per stage, at most (steps decide).")
    parser.add_argument("--limit", type=int, default=None, help="Score only the first N test windows.")
    args = parser.parse_args()
    torch.set_num_threads(1)
    data, fusion = demo.demo_trees(args.work, 0)

    def config(run: Path, stage: str, steps: int, batch: int, extra: dict) -> TrainConfig:
        return TrainConfig(
            task="fusion", data=str(fusion), run_dir=str(run), stage=stage, steps=steps, batch_size=batch,
            seed=0, device="cpu", save_every=steps, val_every=steps, val_split="test", val_samples=4,
            log_every=max(steps // 4, 10), max_minutes=args.minutes,
            task_options={**demo.MODEL, **extra, "unet_loss": args.unet_loss},
        )  # fmt: skip

    unet_run = args.work / f"{args.unet_loss}-unet"
    if not (unet_run / "checkpoints" / "last").is_dir():
        train(config(unet_run, "unet", 400, 4, demo.UNET))
    fused = demo._fusion_scores(unet_run / "checkpoints" / "last" / "model.safetensors", fusion, "cpu")
    print(f"U-Net ({args.unet_loss}) fusion images, PSNR dB: {json.dumps(fused)}")
    print("| translator | frames of | " + " | ".join(f"t+{k}" for k in SHOWN) + " | mean PSNR / SSIM |")
    print("|---" * (len(SHOWN) + 3) + "|")
    for name, (steps, batch, extra) in TRANSLATORS.items():
        run = args.work / f"{args.unet_loss}-{name.replace(' ', '-')}"
        shutil.rmtree(run, ignore_errors=True)
        shutil.copytree(unet_run, run)
        train(config(run, "translator", steps, batch, {**demo.FAST_GAN, **demo.WHOLE, **extra}))
        train(config(run, "sharpen", 300, 8, demo.WHOLE))
        scores = evaluate_tree(
            data, weights=run / "checkpoints" / "last" / "model.safetensors", split="test", protocol="next",
            steps=32, metrics="psnr,ssim", device="cpu", baselines=["no-motion", "copy-last"], seed=0,
            limit=args.limit,
        )  # fmt: skip
        for label, result in {"fusion": scores, **scores["baselines"]}.items():
            cells = [f"{result['per_step'][k - 1]['psnr']:.2f}" for k in SHOWN]
            mean = f"{result['mean']['psnr']:.2f} / {result['mean']['ssim']:.3f}"
            print(f"| {name} | {label} | " + " | ".join(cells) + f" | {mean} |", flush=True)


if __name__ == "__main__":
    main()
