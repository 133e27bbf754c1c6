"""``framepred demo --model msgan``: synthetic data, motion-filtered clips, a small adversarial
multi-scale model, scores beside copy-last and linear extrapolation, a GIF.

Everything lands in one folder: ``data/`` (the synthetic frame tree), ``clips/`` (`framepred clip`
shards of its train split: 32x32 crops of 5 frames, as the paper trains), ``run/`` (the training
run), ``rollout.gif`` (prediction beside truth, predicted recursively from four whole frames) and
``results.json``. The model predicts whole 64x64 test frames although it only saw 32x32 crops.
"""

from __future__ import annotations

from pathlib import Path

from framepred.demo import DemoOptions, DemoResult
from framepred.demo.common import demo_config, fresh_folder, synthetic_tree, write_panels_gif, write_results

# A 1/8-width network (0.22M generator parameters) and Adam for both networks: with the paper's
# plain SGD the discriminators do not leave chance level within a CPU demo (docs/msgan.md).
DEMO_TASK = {
    "width": 0.125,
    "g_optimizer": "adam",
    "g_lr": 1e-3,
    "d_optimizer": "adam",
    "d_lr": 1e-4,
    "val_crop": None,
}
STEPS = 1600
MINUTES = 6.0
BATCH = 8
SIZE, SEQUENCES, FRAMES, CLIPS = 64, 32, 12, 6000
METRICS = ("psnr", "ssim", "sharpness")
BASELINES = ("copy-last", "linear")


def _rollout_gif(weights: Path, data: Path, path: Path, device: str) -> None:
    """Prediction (left) beside truth (right) for the first test sequence, from its first four frames."""
    from framepred.data.tree import FrameTree
    from framepred.inference.predictor import Predictor

    sequence = FrameTree(data).sequences("test")[0]
    truth = sequence.read_all()
    predictor = Predictor.from_checkpoint(weights, device=device)
    count = predictor.context_frames
    predictions = list(predictor.rollout(truth[:count], len(truth) - count))
    frames = [[f, f] for f in truth[:count]]
    frames += [[p, t] for p, t in zip(predictions, truth[count:], strict=True)]
    write_panels_gif(path, frames)


def run(options: DemoOptions) -> DemoResult:
    """Prepare, cut clips, train, evaluate and render."""
    from framepred.data.clips import extract_clips
    from framepred.engine.trainer import train
    from framepred.metrics.evaluate import evaluate_tree

    options.out.mkdir(parents=True, exist_ok=True)
    data = synthetic_tree(options.out / "data", SIZE, SEQUENCES, FRAMES, options.seed)
    clips = options.out / "clips"
    if not (clips / "manifest.json").is_file():
        extract_clips(data / "train", clips, CLIPS, seed=options.seed)
    run_dir = fresh_folder(options.out / "run")
    steps = options.steps or STEPS
    config = demo_config(
        options, "msgan", clips, run_dir, steps, BATCH, MINUTES, dict(DEMO_TASK),
        val_data=str(data), val_samples=8,
    )  # fmt: skip
    result = train(config)
    weights = run_dir / "checkpoints" / "last" / "model.safetensors"
    scores = evaluate_tree(
        data,
        weights=weights,
        split="test",
        protocol="next",
        steps=1,
        metrics=",".join(METRICS),
        device=options.device,
        baselines=list(BASELINES),
        seed=options.seed,
    )
    gif = options.out / "rollout.gif"
    _rollout_gif(weights, data, gif, options.device)
    label = f"msgan ({result.steps} steps)"
    rows = {label: {m: scores["mean"][m] for m in METRICS}}
    for name in BASELINES:
        rows[name] = {m: scores["baselines"][name]["mean"][m] for m in METRICS}
    summary = {
        "model": rows[label],
        **{name: rows[name] for name in BASELINES},
        "steps": result.steps,
        "test_windows": scores["count"],
        "run_dir": str(run_dir),
        "rollout": str(gif),
    }
    write_results(options.out / "results.json", summary)
    best_baseline = max(rows[name]["psnr"] for name in BASELINES)
    return DemoResult(
        title=f"next-frame scores on whole 64x64 synthetic test frames ({scores['count']} windows)",
        rows=rows,
        files={"rollout (prediction | truth)": str(gif), "training run": str(run_dir)},
        steps=result.steps,
        beats_baselines=rows[label]["psnr"] > best_baseline,
        extra={"json": {"model": rows[label], **{name: rows[name] for name in BASELINES}}},
    )
