"""``framepred demo --model fusion``: synthetic data, its fusion images, a short training of each stage
into one run, per-step scores beside copy-last and the no-motion baseline, and a GIF.

Everything lands in one folder: ``data/`` (the synthetic frame tree), ``fusion/`` (its fusion images),
``run/`` (the three stages, ``run/checkpoints/last/model.safetensors`` holding all of them),
``rollout.gif`` (fusion images, predicted fusion, prediction and truth: 16 frames in, 32 out),
``per_step.csv`` and ``results.json``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np

from framepred.demo import DemoOptions, DemoResult
from framepred.demo.common import fresh_folder, synthetic_tree, write_panels_gif, write_results

SIZE, SEQUENCES, FRAMES, TEST = 64, 24, 50, 6
CONTEXT, STEPS = 16, 32
# The synthetic textures are fine-grained: blur before Canny keeps their grain out of the edge maps.
FUSION = {"canny_low": 20.0, "canny_high": 50.0, "edge_blur": 1.5}
MODEL = {
    "context": CONTEXT, "horizon": 16, "unet_base": 8, "translator_base": 16, "translator_levels": 4,
    "translator_dropout": 0.0, "discriminator_base": 16, "upscale_factor": 2, "sharpener_base": 32,
}  # fmt: skip
# stage -> (default steps, batch size, options of that stage, minutes at most); about seven CPU minutes in
# all. The translator and its discriminator at 1e-3 rather than pix2pix's 2e-4: faster in these few
# hundred steps (benchmarks/bench_fusion.py measured 18.7 against 17.0 dB after 180 steps on real footage).
FAST_GAN = {"translator_lr": 1e-3, "discriminator_lr": 1e-3}
# The U-Net trains on 32x32 crops (a quarter of the cost of whole frames; it is convolutional and runs on
# whole frames afterwards) with MSE (ours; measured here: its fusion images 12.18 dB against 11.05 for the
# paper's L1 + (1 - SSIM), repeating the last one 9.53).
UNET = {"clip_stride": 2, "crop": 32, "unet_loss": "mse"}
WHOLE = {"crop": None}
# Half the translator's pairs read the trained U-Net's fusion images (ours): trained on real ones only,
# it turned the U-Net's better fusion images into worse frames (12.97 dB against 18.98; docs/fusion.md).
# Each item is a clip giving 16 pairs.
ON_PREDICTED = {"translator_predicted": 0.5}
STAGES = {
    "unet": (400, 4, UNET, 3.0),
    "translator": (300, 1, {**FAST_GAN, **WHOLE, **ON_PREDICTED}, 5.0),
    "sharpen": (300, 8, WHOLE, 1.5),
}
PSNR_STEPS, SSIM_STEPS = (1, 8, 32), (1, 32)


def _train(fusion: Path, run_dir: Path, options: DemoOptions) -> dict[str, int]:
    from framepred.engine.config import TrainConfig
    from framepred.engine.trainer import train

    steps = {}
    for stage, (default, batch, extra, minutes) in STAGES.items():
        count = default if options.steps is None else max(1, options.steps * default // STAGES["unet"][0])
        config = TrainConfig(
            task="fusion", data=str(fusion), run_dir=str(run_dir), stage=stage, steps=count, batch_size=batch,
            seed=options.seed, device=options.device, save_every=count, val_every=count, val_split="test",
            val_samples=4, log_every=max(count // 4, 10), max_minutes=options.max_minutes or minutes,
            task_options={**MODEL, **extra},
        )  # fmt: skip
        steps[stage] = train(config).steps
    return steps


def _rollout_gif(weights: Path, data: Path, path: Path, device: str) -> None:
    """For the first test sequence: the context (fusion image | fusion image | frame | frame), then each
    predicted step (last observed fusion | predicted fusion | prediction | truth)."""
    from framepred.data.fusion import fusion_image
    from framepred.data.tree import FrameTree
    from framepred.inference.predictor import Predictor

    truth = FrameTree(data).sequences("test")[0].read_all()
    predictor = Predictor.from_checkpoint(weights, device=device)
    options = predictor.model.fusion_options
    panels = []
    for frame in truth[:CONTEXT]:
        fused = fusion_image(frame, options)
        panels.append([fused, fused, frame, frame])
    future = predictor.rollout_streams(truth[:CONTEXT], STEPS)
    for (frame, streams), real in zip(future, truth[CONTEXT : CONTEXT + STEPS], strict=True):
        panels.append([streams["fusion input"], streams["predicted fusion"], frame, real])
    write_panels_gif(path, panels)


def _fusion_scores(weights: Path, fusion: Path, device: str) -> dict[str, dict[str, float]]:
    """Stage 1 on its own: PSNR (dB) of the U-Net's 16 predicted fusion images against the real ones, on
    every 16-in window of the test split, beside repeating the last observed fusion image."""
    import torch

    from framepred.data.tree import FrameTree
    from framepred.metrics.psnr import psnr
    from framepred.models import load_model

    model = load_model(weights, device=device).model.eval()
    context, horizon = model.context_frames, model.frames_per_call
    sums, count = torch.zeros(2, horizon, dtype=torch.float64), 0
    for sequence in FrameTree(fusion).sequences("test"):
        pixels = torch.from_numpy(np.stack(sequence.read_all())).to(device)
        clip = pixels.permute(0, 3, 1, 2).float().div(255.0)
        for start in range(len(clip) - context - STEPS + 1):
            window = clip[start : start + context + horizon][None]
            with torch.no_grad():
                predicted = model.predict_fusion(window[:, :context])
            for k in range(horizon):
                truth = window[:, context + k]
                sums[0, k] += float(psnr(predicted[:, k], truth))
                sums[1, k] += float(psnr(window[:, context - 1], truth))
            count += 1
    means = (sums / count).tolist()
    labels = ("U-Net", "repeat last fusion image")
    return {
        label: {**{f"psnr t+{k}": row[k - 1] for k in (1, 8, 16)}, "psnr mean": sum(row) / horizon}
        for label, row in zip(labels, means, strict=True)
    }


def fusion_folder_name(fusion: dict[str, Any]) -> str:
    """``fusion`` for the demo's fusion options, else ``fusion-`` and the options that differ from them
    (``fusion-edge_soften-1-edges-gradient``), so trees of other options sit beside the demo's."""
    from framepred.data.fusion import FusionOptions

    defaults = {**{field.name: field.default for field in dataclasses.fields(FusionOptions)}, **FUSION}
    changed = sorted((key, value) for key, value in fusion.items() if defaults[key] != value)
    return "-".join(["fusion", *(f"{key}-{value:g}" if isinstance(value, float) else f"{key}-{value}"
                                 for key, value in changed)])  # fmt: skip


def demo_trees(
    folder: Path, seed: int, fusion: dict[str, Any] | None = None, make_fusion: bool = True
) -> tuple[Path, Path]:
    """The demo's frame tree and a fusion tree of it under ``folder`` (made once, then reused), so the
    probes in benchmarks/ score exactly the demo's data. ``fusion``: fusion options replacing the demo's
    (``FUSION``); their tree gets its own folder (``fusion_folder_name``), made unless ``make_fusion`` is
    false (its path is returned either way)."""
    from framepred.data.fusion import FusionOptions
    from framepred.data.prepare.fusion import prepare_fusion

    options = {**FUSION, **(fusion or {})}
    FusionOptions(**options).check()  # before any data is made
    data = synthetic_tree(folder / "data", SIZE, SEQUENCES, FRAMES, seed, test=TEST)
    tree = folder / fusion_folder_name(options)
    if make_fusion and not (tree / "manifest.json").is_file():
        prepare_fusion(data, tree, FusionOptions(**options))
    return data, tree


def run(options: DemoOptions) -> DemoResult:
    from framepred.metrics.evaluate import evaluate_tree
    from framepred.metrics.report import write_csv

    options.out.mkdir(parents=True, exist_ok=True)
    data, fusion = demo_trees(options.out, options.seed)
    run_dir = fresh_folder(options.out / "run")
    steps = _train(fusion, run_dir, options)
    weights = run_dir / "checkpoints" / "last" / "model.safetensors"
    scores = evaluate_tree(
        data, weights=weights, split="test", protocol="next", steps=STEPS, metrics="psnr,ssim",
        device=options.device, baselines=["no-motion", "copy-last"], seed=options.seed,
    )  # fmt: skip
    write_csv(scores, options.out / "per_step.csv")
    gif = options.out / "rollout.gif"
    _rollout_gif(weights, data, gif, options.device)
    summaries = {"fusion": scores, **scores["baselines"]}
    rows = {}
    for label, summary in summaries.items():
        per_step = {row["step"]: row for row in summary["per_step"]}
        row = {f"psnr t+{k}": per_step[k]["psnr"] for k in PSNR_STEPS}
        row["psnr mean"] = summary["mean"]["psnr"]
        row.update({f"ssim t+{k}": per_step[k]["ssim"] for k in SSIM_STEPS})
        rows[label] = row
    summary = {
        "steps": steps,
        "test_windows": scores["count"],
        "mean": {label: s["mean"] for label, s in summaries.items()},
        "per_step": {label: s["per_step"] for label, s in summaries.items()},
        "run_dir": str(run_dir),
        "rollout": str(gif),
    }
    fusion_rows = _fusion_scores(weights, fusion, options.device)
    summary["unet_fusion_psnr"] = fusion_rows
    write_results(options.out / "results.json", summary)
    means = {label: s["mean"]["psnr"] for label, s in summaries.items()}
    return DemoResult(
        title=f"16 frames in, {STEPS} out: synthetic test split ({scores['count']} windows)",
        rows=rows,
        files={
            "rollout (fusion in | fusion out | prediction | truth)": str(gif),
            "per-step table": str(options.out / "per_step.csv"),
            "training run": str(run_dir),
        },
        steps=sum(steps.values()),
        beats_baselines=means["fusion"] > max(means["no-motion"], means["copy-last"]),
        extra={"json": {**summary["mean"], "unet fusion images": fusion_rows}},
        tables=[
            ("stage 1 alone: its 16 fusion images per window against the real ones (PSNR dB)", fusion_rows)
        ],
    )
