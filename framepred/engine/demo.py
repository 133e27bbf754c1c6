"""The job behind ``framepred demo``: synthetic data -> a small DMVFN -> scores beside copy-last -> a GIF.

Everything lands in one folder: ``data/`` (the synthetic frame tree), ``run/`` (the training run),
``rollout.gif`` (prediction beside truth, predicted recursively from two frames) and
``results.json`` (the scores).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from framepred.io.atomic import write_text_atomic

# Small enough to train in about two minutes on two CPU cores, big enough to beat copy-last clearly.
DEMO_MODEL = {"features": [32, 32, 32, 16, 16, 16, 8, 8, 8], "routing": "all"}
DEMO_TASK = {
    "clip_frames": 6,
    "crop": 64,
    "perceptual": False,  # the VGG19 weights are not available offline
    "lr": 1e-3,  # start and end: lr / 10
    "warmup": 10,
}


@dataclass(frozen=True)
class DemoOptions:
    out: Path = Path("runs/demo")
    steps: int = 600
    max_minutes: float = 2.0
    # Small convolutions gain little from several intra-op threads, and spinning threads collapse
    # (10x slower, measured) when the CPU is shared; the previous setting is restored afterwards.
    threads: int | None = 1
    batch_size: int = 4
    seed: int = 0
    device: str = "cpu"
    size: int = 64
    sequences: int = 32
    frames: int = 12


def _prepare_data(options: DemoOptions) -> Path:
    from framepred.data.synthetic import SyntheticConfig, prepare_synthetic

    data = options.out / "data"
    if not (data / "manifest.json").is_file():
        config = SyntheticConfig(
            train=options.sequences,
            test=max(options.sequences // 4, 2),
            frames=options.frames,
            width=options.size,
            height=options.size,
            seed=options.seed,
        )
        prepare_synthetic(data, config)
    return data


def _rollout_gif(weights: Path, data: Path, path: Path, device: str) -> None:
    """Prediction (left) beside truth (right) for the first test sequence, from its first two frames."""
    from framepred.data.tree import FrameTree
    from framepred.inference.predictor import Predictor
    from framepred.io.video import VideoWriter

    sequence = FrameTree(data).sequences("test")[0]
    truth = sequence.read_all()
    predictor = Predictor.from_checkpoint(weights, device=device)
    predictions = list(predictor.rollout(truth[:2], len(truth) - 2))
    gap = np.full((truth[0].shape[0], 4, 3), 255, np.uint8)
    with VideoWriter(path, fps=4) as writer:
        for frame in truth[:2]:
            writer.write(np.repeat(np.repeat(np.concatenate([frame, gap, frame], 1), 3, 0), 3, 1))
        for predicted, real in zip(predictions, truth[2:], strict=True):
            panel = np.concatenate([predicted, gap, real], 1)
            writer.write(np.repeat(np.repeat(panel, 3, 0), 3, 1))  # 3x larger, pixels kept sharp


def run_demo(options: DemoOptions) -> dict[str, Any]:
    """Prepare, train, evaluate and render; returns ``{"model": {...}, "copy-last": {...}, ...}``."""
    import torch

    previous = torch.get_num_threads()
    if options.threads is not None:
        torch.set_num_threads(options.threads)
    try:
        return _run_demo(options)
    finally:
        torch.set_num_threads(previous)


def _run_demo(options: DemoOptions) -> dict[str, Any]:
    from framepred.engine.config import TrainConfig
    from framepred.engine.trainer import train
    from framepred.metrics.evaluate import evaluate_tree

    options.out.mkdir(parents=True, exist_ok=True)
    data = _prepare_data(options)
    run_dir = options.out / "run"
    if run_dir.exists():
        shutil.rmtree(run_dir)  # the demo's own previous run
    config = TrainConfig(
        task="dmvfn",
        data=str(data),
        run_dir=str(run_dir),
        steps=options.steps,
        batch_size=options.batch_size,
        seed=options.seed,
        device=options.device,
        save_every=options.steps,
        val_every=max(options.steps // 4, 50),
        val_split="test",
        log_every=max(options.steps // 12, 10),
        max_minutes=options.max_minutes,
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
    summary = {
        "model": {"psnr": scores["mean"]["psnr"], "ssim": scores["mean"]["ssim"]},
        "copy-last": {"psnr": copy_last["psnr"], "ssim": copy_last["ssim"]},
        "steps": result.steps,
        "test_windows": scores["count"],
        "run_dir": str(run_dir),
        "rollout": str(gif),
    }
    write_text_atomic(options.out / "results.json", json.dumps(summary, indent=2) + "\n")
    return summary
