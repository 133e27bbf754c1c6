"""The fusion predictor on real footage: the spec's small configuration (fusion.md §4) trained for a few
minutes per stage on a CPU, scored per step t+1 .. t+32 beside copy-last and the no-motion baseline.

Data: the four videos of ../shared/data at WIDTHxHEIGHT; each is split in time, its last --test-frames
frames held out as the test split (every 16-in/32-out window of it is scored) and the rest used for
training. Stages: the U-Net (base 8, 3 levels; 16 fusion images in, 16 out), the translator (base-16
U-Net, base-16 PatchGAN), the sharpener (x2), each trained for --minutes into one run directory.
The table: PSNR/SSIM per step of the whole model, of the model without its sharpener, of the no-motion
baseline (the translator on the last observed fusion image, repeated) and of copy-last; then the
U-Net rolled out in fusion space beside copying the last fusion image, and the frames translated from
that rollout. Training takes the minutes asked for and is what needs an idle machine; scores do not
depend on the load, so they can be computed apart (``--train-only``, then ``--evaluate-only``).

    python benchmarks/bench_fusion.py --work runs/fusion-bench \
        --minutes 2.5 --train-only
    python benchmarks/bench_fusion.py --work runs/fusion-bench \
        --evaluate-only
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from framepred.data.fusion import FusionOptions
from framepred.data.prepare.fusion import prepare_fusion
from framepred.data.resize import parse_size, resize_frame
from framepred.data.tree import FrameTree, SequenceWriter, summarise_tree, write_manifest
from framepred.engine.config import TrainConfig
from framepred.engine.trainer import train
from framepred.io.video import VideoReader
from framepred.metrics.evaluate import evaluate_tree

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
VIDEOS = [
    "udacity_highway_solidWhiteRight/solidWhiteRight.mp4",
    "imageio_cockatoo/cockatoo.mp4",
    "intel_asl_walk/walk.mkv",
    "sam2_juggle/05_default_juggle.mp4",
]
MODEL = {
    "context": 16, "horizon": 16, "unet_base": 8, "translator_base": 16, "discriminator_base": 16,
    "upscale_factor": 2, "sharpener_base": 32, "translator_dropout": 0.0,
}  # fmt: skip
# stage -> (batch, crop, options of that stage). Learning rates for a few CPU minutes (measured here):
# the U-Net at 2e-4 (1e-3 drifts away from its copy-the-last-image start), the translator and its
# discriminator at 1e-3 rather than pix2pix's 2e-4 (18.7 against 17.0 dB after 180 steps), no dropout.
STAGES = {
    "unet": (2, 64, {"unet_lr": 2e-4, "clip_stride": 2}),
    "translator": (8, None, {"translator_lr": 1e-3, "discriminator_lr": 1e-3}),
    "sharpen": (8, None, {}),
}


def make_tree(out: Path, size: tuple[int, int], test_frames: int) -> Path:
    """Each video split in time: train/<name> all but its last ``test_frames`` frames, test/<name> those."""
    if (out / "manifest.json").is_file():
        return out
    for relative in VIDEOS:
        with VideoReader(SHARED / relative) as reader:
            frames = [resize_frame(frame, size) for frame in reader]
        name = Path(relative).parent.name
        for split, part in (("train", frames[:-test_frames]), ("test", frames[-test_frames:])):
            with SequenceWriter(out, split, name) as writer:
                for frame in part:
                    writer.write(frame)
    write_manifest(out, summarise_tree(out, source="videos", inputs=VIDEOS))
    return out


def train_stages(
    fusion: Path, run: Path, minutes: float, seed: int, unet_loss: str, translator_predicted: float
) -> dict[str, dict]:
    stages = dict(STAGES)
    stages["unet"] = (*STAGES["unet"][:2], {**STAGES["unet"][2], "unet_loss": unet_loss})
    if translator_predicted > 0:
        # Items are clips now, each giving 16 pairs; 64x64 crops keep the U-Net's forward pass affordable.
        stages["translator"] = (
            1,
            64,
            {**STAGES["translator"][2], "translator_predicted": translator_predicted},
        )
    timings = {}
    for stage, (batch, crop, extra) in stages.items():
        config = TrainConfig(
            task="fusion", data=str(fusion), run_dir=str(run), stage=stage, steps=100_000, batch_size=batch,
            seed=seed, device="cpu", max_minutes=minutes, val_split="test", val_every=100_000,
            save_every=100_000, val_samples=8, log_every=50,
            task_options={**MODEL, "crop": crop, **extra},
        )  # fmt: skip
        start = time.monotonic()
        result = train(config)
        seconds = time.monotonic() - start
        timings[stage] = {"steps": result.steps, "seconds": round(seconds, 1), **result.validation}
    return timings


def fusion_space(
    frames: Path, fusion: Path, weights: Path, steps: int = 32, limit: int | None = None
) -> list[dict[str, float]]:
    """Per step, on every test window: PSNR of the U-Net's fusion images rolled out in fusion space
    (its predictions fed back) and of the last observed fusion image, against the real fusion images;
    PSNR/SSIM of the frames translated from that fusion-space rollout (the other recursion: the
    model's own one recomputes fusion images from its predicted frames); and PSNR/SSIM of the frames
    translated from the *real* future fusion images: what a perfect U-Net would give with this
    translator, the method's ceiling."""
    from framepred.metrics.psnr import psnr
    from framepred.metrics.ssim import ssim
    from framepred.models import load_model

    model = load_model(weights).model.eval()
    context = model.context_frames
    sums = torch.zeros(steps, 6, dtype=torch.float64)
    count = 0
    for real, fused in zip(
        FrameTree(frames).sequences("test"), FrameTree(fusion).sequences("test"), strict=True
    ):
        clips = [_tensor(real), _tensor(fused)]
        for start in range(len(real) - context - steps + 1):
            if limit is not None and count >= limit:
                break
            frame_window, fusion_window = (c[start : start + context + steps][None] for c in clips)
            with torch.no_grad():
                future, window = [], fusion_window[:, :context]
                while len(future) < steps:
                    predicted = model.predict_fusion(window)
                    future += list(predicted.unbind(1))
                    window = torch.cat([window, predicted], 1)[:, -context:]
                future = torch.stack(future[:steps], 1)
                translated = model.translate(future)
                oracle = model.translate(fusion_window[:, context:])
            for k in range(steps):
                truth, last = fusion_window[:, context + k], fusion_window[:, context - 1]
                target = frame_window[:, context + k]
                sums[k] += torch.tensor(
                    [float(psnr(future[:, k], truth)), float(psnr(last, truth)),
                     float(psnr(translated[:, k], target)), float(ssim(translated[:, k], target)),
                     float(psnr(oracle[:, k], target)), float(ssim(oracle[:, k], target))],
                    dtype=torch.float64,
                )  # fmt: skip
            count += 1
    names = (
        "unet_fusion_psnr",
        "last_fusion_psnr",
        "frames_psnr",
        "frames_ssim",
        "oracle_psnr",
        "oracle_ssim",
    )
    return [dict(zip(names, row, strict=True)) for row in (sums / count).tolist()]


def _tensor(sequence) -> torch.Tensor:
    pixels = torch.stack([torch.from_numpy(frame) for frame in sequence.read_all()])
    return pixels.permute(0, 3, 1, 2).float() / 255


def main() -> None:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=formatter)
    parser.add_argument("--work", type=Path, default=ROOT / "runs" / "bench_fusion")
    parser.add_argument("--size", default="160x96")
    parser.add_argument("--test-frames", type=int, default=56)
    parser.add_argument("--minutes", type=float, default=4.0, help="Training minutes per stage.")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--unet-loss", default="l1-ssim", help="l1-ssim (the paper's) or mse.")
    parser.add_argument(
        "--translator-predicted", type=float, default=0.0,
        help="Share of translator pairs on the U-Net's fusion images (ours; 0: real ones only).",
    )  # fmt: skip
    parser.add_argument("--limit", type=int, default=None, help="Score only the first N test windows.")
    parser.add_argument("--train-only", action="store_true", help="Train, print the timings, stop.")
    parser.add_argument("--evaluate-only", action="store_true", help="Score the run in --work again.")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    frames = make_tree(args.work / "frames", parse_size(args.size), args.test_frames)
    fusion = args.work / "fusion"
    prepare_fusion(frames, fusion, FusionOptions(), workers=args.threads)
    run = args.work / "run"
    if not args.evaluate_only:
        timings = train_stages(
            fusion, run, args.minutes, args.seed, args.unet_loss, args.translator_predicted
        )
        print(f"training (minutes per stage: {args.minutes:g}, {args.threads} threads):")
        for stage, values in timings.items():
            print(f"  {stage}: {values['steps']} steps in {values['seconds']} s; " + json.dumps(values))
        if args.train_only:
            return
    full = run / "checkpoints" / "last" / "model.safetensors"
    scores = evaluate_tree(
        frames, weights=full, split="test", protocol="next", steps=32, metrics="psnr,ssim", device="cpu",
        limit=args.limit, baselines=["no-sharpener", "no-motion", "copy-last"],
    )  # fmt: skip
    runs = {"fusion": scores, **scores["baselines"]}
    print(f"\nper step on {scores['count']} test windows (16 frames in; PSNR dB / SSIM)")
    print("| step | " + " | ".join(runs) + " |")
    print("|---" * (len(runs) + 1) + "|")
    for k in range(32):
        cells = [f"{r['per_step'][k]['psnr']:.2f} / {r['per_step'][k]['ssim']:.3f}" for r in runs.values()]
        print(f"| t+{k + 1} | " + " | ".join(cells) + " |")
    print(
        "| mean | "
        + " | ".join(f"{r['mean']['psnr']:.2f} / {r['mean']['ssim']:.3f}" for r in runs.values())
        + " |"
    )
    print("\nrolled out in fusion space (PSNR dB of fusion images; frames translated from them, PSNR / SSIM)")
    print(
        "| step | U-Net fusion | last fusion image | frames from the fusion rollout "
        "| frames from the real fusion images |"
    )
    print("|---|---|---|---|---|")
    for k, row in enumerate(fusion_space(frames, fusion, full, limit=args.limit)):
        print(
            f"| t+{k + 1} | {row['unet_fusion_psnr']:.2f} | {row['last_fusion_psnr']:.2f} | "
            f"{row['frames_psnr']:.2f} / {row['frames_ssim']:.3f} | "
            f"{row['oracle_psnr']:.2f} / {row['oracle_ssim']:.3f} |"
        )


if __name__ == "__main__":
    main()
