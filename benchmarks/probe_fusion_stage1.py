"""Why stage 1 of the fusion demo does not show in its frames: one U-Net (the demo's settings,
``--unet-steps`` steps) and one translator (the demo's, half its pairs on that U-Net's fusion images),
then every 16-in window of the demo's test split (the demo's 18 windows: 32 future frames exist), scored
over the first 16 future steps (one U-Net call, no recursion, no sharpener so only the two stages show).

Fusion space, PSNR of each 16-step prediction against the real future fusion images: the U-Net; the last
observed fusion image repeated; that image Gaussian-blurred (a prediction with no motion in it, only
softness: if the U-Net scores no better than it, its gain over repeat-last is blur, not motion); and the
U-Net's images blurred the same ways (a sharp U-Net whose edges move right beats the blurred last image
once blurred alike); an oracle, not a prediction: the last image shifted by the whole-pixel offset that
best matches each future image (what one global motion could give at most), sharp and blurred. Then,
per window, the U-Net against the best fixed blur; and how stable the fusion images are under a known
sub-pixel move of the frame (what even an exact motion can give in fusion space).

Frame space, the translator applied to: the U-Net's fusion images (the model without sharpener); the real
future fusion images (what a perfect U-Net would give with this translator); the last observed one
repeated (no-motion); the blurred last one; and copy-last of the frames.

    python benchmarks/probe_fusion_stage1.py --work runs/probe-stage1

``--fusion-only`` trains the U-Net alone and scores fusion space only (a few minutes per variant); the
U-Net's loss options (``--unet-gdl-weight``, ``--unet-blur-sigma``), crop, batch and learning rate are
the recipe's and name the run folder, so variants share one ``--work`` folder and its data.

``--edges``, ``--edge-soften``, ``--edge-blur``, ``--edge-weight`` and ``--segmentation`` replace the
demo's fusion options (``framepred prepare fusion``'s): their fusion tree and runs get folders of their
own in ``--work``, and every baseline is of that representation. ``--stability-only`` prints the
sub-pixel stability table alone (no training, seconds).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch

from framepred.data.fusion import FusionOptions, fusion_image
from framepred.data.tree import FrameTree
from framepred.demo import fusion as demo
from framepred.engine.config import TrainConfig
from framepred.engine.trainer import train
from framepred.errors import UsageError
from framepred.losses.pixel import gaussian_blur
from framepred.metrics.psnr import psnr
from framepred.models import load_model

SHOWN = (1, 2, 4, 8, 12, 16)
SIGMAS = (0.5, 1.0, 2.0, 3.0, 4.0)  # 0.5: soft fusion images may want less blur
SUBPIXEL_SHIFTS = (0.25, 0.5, 1.0)
SHIFT_RADIUS = 12  # pixels: the camera pans at most 1.5 px per frame, 24 px by t+16


def best_shift(image: torch.Tensor, truths: torch.Tensor, radius: int) -> torch.Tensor:
    """An oracle, not a prediction: ``image`` (``1 x C x H x W``) shifted (cyclically) by the whole-pixel
    offset of at most ``radius`` that best matches each of ``truths`` (``K x C x H x W``): how much one
    global motion of the last fusion image could give at most."""
    offsets = range(-radius, radius + 1)
    shifted = torch.cat([image.roll((dy, dx), (-2, -1)) for dy in offsets for dx in offsets])
    best = [int((shifted - truth).square().mean(dim=(1, 2, 3)).argmin()) for truth in truths]
    return shifted[best]


def move_right(image: np.ndarray, shift: float) -> np.ndarray:
    """``image`` moved right by ``shift`` pixels (bilinear, reflected border)."""
    move = np.float32([[1, 0, shift], [0, 1, 0]])
    size = image.shape[1], image.shape[0]
    return cv2.warpAffine(image, move, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def shift_stability(data: Path, fusion: dict[str, Any]) -> dict[str, list[float]]:
    """How well any prediction in fusion space can do when the motion is known exactly: frames of the test
    split moved by a fraction of a pixel; PSNR against the fusion image of the moved frame, of the old
    fusion image unmoved, moved by the same shift (bilinear), and both blurred (sigma 2). Four frames per
    sequence, a 4-pixel border left out (the shift's edge)."""
    options = FusionOptions(**{**demo.FUSION, **fusion})

    def tensor(image: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(image).permute(2, 0, 1)[None].float().div(255.0)[..., 4:-4, 4:-4]

    scores: dict[str, list[float]] = {}
    for sequence in FrameTree(data).sequences("test"):
        for frame in sequence.read_all()[16:48:8]:
            fused = fusion_image(frame, options)
            for shift in SUBPIXEL_SHIFTS:
                truth = tensor(fusion_image(move_right(frame, shift), options))
                for label, image in (("unmoved", tensor(fused)), ("moved", tensor(move_right(fused, shift)))):
                    scores.setdefault(f"{label} {shift:g}", []).append(float(psnr(image, truth)))
                    blurred = gaussian_blur(image, 2.0)
                    scores.setdefault(f"{label}, blurred {shift:g}", []).append(float(psnr(blurred, truth)))
    return scores


def print_stability(data: Path, fusion: dict[str, Any], label: str) -> dict[str, float]:
    """Print (and return) the mean of each ``shift_stability`` row."""
    stability = {row: float(np.mean(values)) for row, values in shift_stability(data, fusion).items()}
    print(f"{label}: fusion images of test frames moved right by a known shift, PSNR dB against the moved")
    print("frame's own fusion image:")
    print("| prediction | " + " | ".join(f"{shift:g} px" for shift in SUBPIXEL_SHIFTS) + " |")
    print("|---" * (len(SUBPIXEL_SHIFTS) + 1) + "|")
    for row in ("unmoved", "moved", "unmoved, blurred", "moved, blurred"):
        cells = " | ".join(f"{stability[f'{row} {shift:g}']:.2f}" for shift in SUBPIXEL_SHIFTS)
        print(f"| old fusion image {row} | {cells} |")
    return stability


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
    parser.add_argument("--unet-gdl-weight", type=float, default=0.0, help="The recipe's option (0: off).")
    parser.add_argument("--unet-blur-sigma", type=float, default=0.0, help="The recipe's option (0: off).")
    parser.add_argument("--unet-residual-blur", type=float, default=0.0, help="The recipe's option.")
    parser.add_argument("--crop", type=int, default=demo.UNET["crop"], help="U-Net training crop.")
    parser.add_argument("--batch-size", type=int, default=4, help="U-Net batch size.")
    parser.add_argument("--translator-steps", type=int, default=300)
    parser.add_argument(
        "--fusion-only", action="store_true", help="Train no translator and score fusion space only."
    )
    parser.add_argument("--minutes", type=float, default=9.0, help="Per stage, at most (steps decide).")
    parser.add_argument("--limit", type=int, default=None, help="Score only the first N test windows.")
    parser.add_argument("--edges", default=None, help="canny (the demo's) or gradient: prepare fusion's.")
    parser.add_argument("--edge-soften", type=float, default=None, help="prepare fusion's (demo: 0).")
    parser.add_argument("--edge-blur", type=float, default=None, help="prepare fusion's (demo: 1.5).")
    parser.add_argument("--edge-weight", type=float, default=None, help="prepare fusion's (demo: 1).")
    parser.add_argument("--segmentation", default=None, help="prepare fusion's (demo: slic).")
    parser.add_argument(
        "--stability-only", action="store_true", help="Print the sub-pixel stability table alone."
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    given = {
        "edges": args.edges, "edge_soften": args.edge_soften, "edge_blur": args.edge_blur,
        "edge_weight": args.edge_weight, "segmentation": args.segmentation,
    }  # fmt: skip
    fusion_options = {key: value for key, value in given.items() if value is not None}
    try:
        data, fusion = demo.demo_trees(args.work, 0, fusion_options, not args.stability_only)
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
    if args.stability_only:
        print_stability(data, fusion_options, fusion.name)
        return
    name = f"{args.unet_loss}-{args.unet_steps}-lr{args.unet_lr:g}"
    if fusion.name != "fusion":
        name = f"{fusion.name}-{name}"
    if args.unet_gdl_weight:
        name += f"-gdl{args.unet_gdl_weight:g}"
    if args.unet_blur_sigma:
        name += f"-blur{args.unet_blur_sigma:g}"
    if args.unet_residual_blur:
        name += f"-res{args.unet_residual_blur:g}"
    if args.crop != demo.UNET["crop"] or args.batch_size != 4:
        name += f"-crop{args.crop}-batch{args.batch_size}"
    # Given to every stage (a later stage keeps the run's options unless given again).
    unet_options = {
        "unet_loss": args.unet_loss, "unet_lr": args.unet_lr, "unet_gdl_weight": args.unet_gdl_weight,
        "unet_blur_sigma": args.unet_blur_sigma, "unet_residual_blur": args.unet_residual_blur,
    }  # fmt: skip
    run = args.work / name

    def config(stage: str, steps: int, batch: int, extra: dict) -> TrainConfig:
        return TrainConfig(
            task="fusion", data=str(fusion), run_dir=str(run), stage=stage, steps=steps, batch_size=batch,
            seed=0, device="cpu", save_every=steps, val_every=steps, val_split="test", val_samples=4,
            log_every=max(steps // 4, 10), max_minutes=args.minutes,
            task_options={**demo.MODEL, **unet_options, **extra},
        )  # fmt: skip

    # Each stage is trained once and kept: a rerun (after a time limit) only scores.
    if not (run / "stages" / "unet" / "checkpoints" / "last").is_dir():
        train(config("unet", args.unet_steps, args.batch_size, {**demo.UNET, "crop": args.crop}))
    if not args.fusion_only and not (run / "stages" / "translator" / "checkpoints" / "last").is_dir():
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
            if args.limit is not None and len(rows.get("fusion: U-Net", [])) >= args.limit:
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
                for label, image in (("", past[-1:]), (", blurred sigma 2", blurred[2.0][:1])):
                    shifted = best_shift(image, future, SHIFT_RADIUS)
                    add(f"fusion: oracle best global shift of the last{label}", shifted, future)
                # A U-Net that moves edges, however sharp, beats the blurred last image once blurred alike.
                for sigma in SIGMAS:
                    add(f"fusion: U-Net, blurred sigma {sigma:g}", gaussian_blur(predicted, sigma), future)
                if args.fusion_only:
                    continue
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
    # The U-Net against the fixed blur of the last fusion image that scores best on these windows, window
    # by window (mean over the steps): is its gain over blur more than a few lucky windows?
    blurs = [label for label in table if label.startswith("fusion: repeat last, blurred")]
    best = max(blurs, key=lambda label: np.mean(table[label]))
    gain = np.array(rows["fusion: U-Net"]).mean(1) - np.array(rows[best]).mean(1)
    print(
        f"U-Net minus the best blur ({best.removeprefix('fusion: ')}): {gain.mean():+.2f} dB on the mean, "
        f"above it in {int((gain > 0).sum())} of {count} windows"
    )
    stability = print_stability(data, fusion_options, fusion.name)
    summary = {"windows": count, "per_step": table, "shift_stability": stability}
    (args.work / f"{name}.json").write_text(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
