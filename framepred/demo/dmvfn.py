"""``framepred demo --model dmvfn``: synthetic data, a small DMVFN, scores beside copy-last and linear
extrapolation up to t+5, a GIF.

Everything lands in one folder: ``data/`` (the synthetic frame tree), ``run/`` (the training run, with
``results.png``), ``rollout.gif`` (prediction, truth and their difference side by side, predicted
recursively from two frames) and ``results.json`` (the scores).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from framepred.demo import DemoOptions, DemoResult
from framepred.demo.common import demo_config, fresh_folder, synthetic_tree, write_panels_gif, write_results

# Small enough to train in about a minute on one CPU thread, big enough to beat copy-last clearly.
DEMO_MODEL = {"features": [32, 32, 32, 16, 16, 16, 8, 8, 8], "routing": "all"}
DEMO_TASK = {
    "clip_frames": 6,
    "crop": 64,
    "perceptual": False,  # the VGG19 weights are not available offline
    "lr": 1e-3,  # start and end: lr / 10
    "warmup": 10,
}


BASELINES = ("copy-last", "linear")
HORIZON = 5  # the per-step table: t+1 .. t+5, each prediction fed back as context

# 150 steps, the learning rate decayed within them, end 0.3-0.4 dB above a 600-step run in each of three
# seeds: past step ~100 at a high rate the model gets worse (docs/training.md, "The built-in demo").
STEPS = 150
MINUTES = 2.0
BATCH = 4
SIZE, SEQUENCES, FRAMES = 64, 32, 12


def _rollout_gif(weights: Path, data: Path, path: Path, device: str) -> None:
    """Prediction | truth | absolute difference (x4, so small errors show) for the first test
    sequence, predicted recursively from its first two frames."""
    from framepred.data.tree import FrameTree
    from framepred.inference.predictor import Predictor

    sequence = FrameTree(data).sequences("test")[0]
    truth = sequence.read_all()
    predictor = Predictor.from_checkpoint(weights, device=device)
    predictions = list(predictor.rollout(truth[:2], len(truth) - 2))
    frames = [[f, f, np.zeros_like(f)] for f in truth[:2]]
    for predicted, real in zip(predictions, truth[2:], strict=True):
        error = np.abs(predicted.astype(np.int16) - real.astype(np.int16)) * 4
        frames.append([predicted, real, np.clip(error, 0, 255).astype(np.uint8)])
    write_panels_gif(path, frames)


def _per_step(scores: dict[str, Any]) -> dict[str, dict[str, float]]:
    """label -> "t+k" -> PSNR, for the model and each baseline."""
    runs = {"dmvfn": scores, **scores["baselines"]}
    return {
        label: {f"t+{row['step']}": row["psnr"] for row in run["per_step"]} for label, run in runs.items()
    }


def run(options: DemoOptions) -> DemoResult:
    """Prepare, train, evaluate and render."""
    from framepred.engine.trainer import train
    from framepred.metrics.evaluate import evaluate_tree

    options.out.mkdir(parents=True, exist_ok=True)
    data = synthetic_tree(options.out / "data", SIZE, SEQUENCES, FRAMES, options.seed)
    run_dir = fresh_folder(options.out / "run")
    steps = options.steps or STEPS
    config = demo_config(
        options,
        "dmvfn",
        data,
        run_dir,
        steps,
        BATCH,
        MINUTES,
        {**DEMO_TASK, "model": dict(DEMO_MODEL)},
        val_at_start=True,  # results.png then shows where the model starts, beside copy-last
    )
    result = train(config)
    weights = run_dir / "checkpoints" / "last" / "model.safetensors"
    scores = evaluate_tree(
        data,
        weights=weights,
        split="test",
        protocol="next",
        steps=1,
        metrics="psnr,ssim",
        device=options.device,
        baselines=list(BASELINES),
        seed=options.seed,
    )
    rollout = evaluate_tree(
        data,
        weights=weights,
        split="test",
        protocol="next",
        steps=HORIZON,
        metrics="psnr",
        device=options.device,
        baselines=list(BASELINES),
        seed=options.seed,
    )
    gif = options.out / "rollout.gif"
    _rollout_gif(weights, data, gif, options.device)
    model_row = {"psnr": scores["mean"]["psnr"], "ssim": scores["mean"]["ssim"]}
    rows = {f"dmvfn ({result.steps} steps)": model_row}
    for name in BASELINES:
        mean = scores["baselines"][name]["mean"]
        rows[name] = {"psnr": mean["psnr"], "ssim": mean["ssim"]}
    per_step = _per_step(rollout)
    summary = {
        "model": model_row,
        **{name: rows[name] for name in BASELINES},
        "per_step_psnr": per_step,
        "steps": result.steps,
        "test_windows": scores["count"],
        "rollout_windows": rollout["count"],
        "run_dir": str(run_dir),
        "rollout": str(gif),
    }
    write_results(options.out / "results.json", summary)
    return DemoResult(
        title=f"next-frame scores on the synthetic test split ({scores['count']} windows)",
        rows=rows,
        files={
            "rollout (prediction | truth | error x4)": str(gif),
            "training run (results.png: loss and validation)": str(run_dir),
        },
        steps=result.steps,
        beats_baselines=all(model_row["psnr"] > rows[name]["psnr"] for name in BASELINES),
        extra={"json": {k: summary[k] for k in ("model", *BASELINES, "per_step_psnr")}},
        tables=[
            (
                f"PSNR (dB) per step, each prediction fed back as context ({rollout['count']} windows)",
                per_step,
            )
        ],
    )
