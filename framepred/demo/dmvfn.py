"""``framepred demo --model dmvfn``: synthetic data, a small DMVFN, scores beside copy-last, a GIF.

Everything lands in one folder: ``data/`` (the synthetic frame tree), ``run/`` (the training run),
``rollout.gif`` (prediction beside truth, predicted recursively from two frames) and
``results.json`` (the scores).
"""

from __future__ import annotations

from pathlib import Path

from framepred.demo import DemoOptions, DemoResult
from framepred.demo.common import fresh_folder, synthetic_tree, write_panels_gif, write_results

# Small enough to train in about two minutes on two CPU cores, big enough to beat copy-last clearly.
DEMO_MODEL = {"features": [32, 32, 32, 16, 16, 16, 8, 8, 8], "routing": "all"}
DEMO_TASK = {
    "clip_frames": 6,
    "crop": 64,
    "perceptual": False,  # the VGG19 weights are not available offline
    "lr": 1e-3,  # start and end: lr / 10
    "warmup": 10,
}


STEPS = 600
MINUTES = 2.0
BATCH = 4
SIZE, SEQUENCES, FRAMES = 64, 32, 12


def _rollout_gif(weights: Path, data: Path, path: Path, device: str) -> None:
    """Prediction (left) beside truth (right) for the first test sequence, from its first two frames."""
    from framepred.data.tree import FrameTree
    from framepred.inference.predictor import Predictor

    sequence = FrameTree(data).sequences("test")[0]
    truth = sequence.read_all()
    predictor = Predictor.from_checkpoint(weights, device=device)
    predictions = list(predictor.rollout(truth[:2], len(truth) - 2))
    frames = [[f, f] for f in truth[:2]] + [[p, t] for p, t in zip(predictions, truth[2:], strict=True)]
    write_panels_gif(path, frames)


def run(options: DemoOptions) -> DemoResult:
    """Prepare, train, evaluate and render."""
    from framepred.engine.config import TrainConfig
    from framepred.engine.trainer import train
    from framepred.metrics.evaluate import evaluate_tree

    options.out.mkdir(parents=True, exist_ok=True)
    data = synthetic_tree(options.out / "data", SIZE, SEQUENCES, FRAMES, options.seed)
    run_dir = fresh_folder(options.out / "run")
    steps = options.steps or STEPS
    config = TrainConfig(
        task="dmvfn",
        data=str(data),
        run_dir=str(run_dir),
        steps=steps,
        batch_size=BATCH,
        seed=options.seed,
        device=options.device,
        save_every=steps,
        val_every=max(steps // 4, 50),
        val_split="test",
        log_every=max(steps // 12, 10),
        max_minutes=options.max_minutes or MINUTES,
        task_options={**DEMO_TASK, "model": dict(DEMO_MODEL)},
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
        baselines=["copy-last"],
        seed=options.seed,
    )
    gif = options.out / "rollout.gif"
    _rollout_gif(weights, data, gif, options.device)
    copy_last = scores["baselines"]["copy-last"]["mean"]
    rows = {
        f"dmvfn ({result.steps} steps)": {"psnr": scores["mean"]["psnr"], "ssim": scores["mean"]["ssim"]},
        "copy-last": {"psnr": copy_last["psnr"], "ssim": copy_last["ssim"]},
    }
    summary = {
        "model": rows[f"dmvfn ({result.steps} steps)"],
        "copy-last": rows["copy-last"],
        "steps": result.steps,
        "test_windows": scores["count"],
        "run_dir": str(run_dir),
        "rollout": str(gif),
    }
    write_results(options.out / "results.json", summary)
    return DemoResult(
        title=f"next-frame scores on the synthetic test split ({scores['count']} windows)",
        rows=rows,
        files={"rollout (prediction | truth)": str(gif), "training run": str(run_dir)},
        steps=result.steps,
        beats_baselines=scores["mean"]["psnr"] > copy_last["psnr"],
        extra={"json": {"model": summary["model"], "copy-last": summary["copy-last"]}},
    )
