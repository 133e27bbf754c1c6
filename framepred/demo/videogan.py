"""``framepred demo --model videogan``: synthetic videos, a small conditional VideoGAN, a GIF grid.

The synthetic data are 32-frame 64x64 sequences of flat-coloured discs falling straight down, one
pixel a frame, over a smooth static background seen by a still camera (VideoGAN's background stream
is one static image; the paper stabilised its videos for the same reason). One image then fixes the
whole future, so a model that learned the motion can beat copy-last. A 1/16-width conditional
VideoGAN trains for a few CPU minutes; the test sequences are then scored per step (frames 1..31
from frame 0) beside copy-last, and ``futures.gif`` shows, per test sequence, the input image, the
generated future, the real future and the model's mask. Everything lands in one folder: ``data/``,
``run/``, ``futures.gif``, ``results.json``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from framepred.demo import DemoOptions, DemoResult
from framepred.demo.common import demo_config, fresh_folder, write_panels_gif, write_results

FRAMES, SIZE, SEQUENCES, TEST = 32, 64, 48, 4
STEPS = 1000
FALL = 1.0  # pixels per frame: every disc falls straight down at this speed
MINUTES = 3.0
BATCH = 8
# Not the paper's recipe (measured in docs/videogan.md): from the official start the generator's
# output stays flat grey for the few hundred rounds a demo has; the input image as the background
# starts it at copy-last, and an L1 loss on the future, 100 times the adversarial loss, keeps the
# adversarial pull from dragging it below (at weight 10 it did, by 0.3 dB on the mean); the input
# image as the foreground too makes the foreground a per-frame correction, which the early frames need.
DEMO_TASK = {
    "frames": FRAMES,
    "width": 1 / 16,
    "input_background": True,
    "input_foreground": True,
    "future_weight": 100.0,
}
PER_STEP_KEYS = ("per_step_psnr", "copy_last_per_step_psnr")
TABLE_STEPS = (1, 2, 4, 8, 16, 24, 31)  # the per-step table's columns


def _scene(rng: np.random.Generator) -> tuple[np.ndarray, list[dict]]:
    """A smooth static background (a colour gradient with soft blobs) and 1-3 flat-coloured discs
    placed so that they stay inside the frame while they fall for ``FRAMES`` frames."""
    import cv2

    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32) / SIZE
    angle = rng.uniform(0, 2 * np.pi)
    ramp = (np.cos(angle) * xx + np.sin(angle) * yy)[..., None]
    start, end = rng.uniform(0.1, 0.9, (2, 3)).astype(np.float32)
    blobs = cv2.resize(rng.uniform(-0.15, 0.15, (3, 3, 3)).astype(np.float32), (SIZE, SIZE), cv2.INTER_CUBIC)
    background = np.clip(start + (end - start) * (ramp - ramp.min()) / np.ptp(ramp) + blobs, 0, 1)
    discs = []
    for _ in range(int(rng.integers(1, 4))):
        radius = int(rng.integers(5, 9))
        top = rng.uniform(radius, SIZE - radius - FALL * (FRAMES - 1))
        discs.append(
            {
                "radius": radius,
                "colour": tuple(float(c) for c in rng.uniform(0, 1, 3)),
                "position": np.array([rng.uniform(radius, SIZE - radius), top]),
            }
        )
    return (background * 255).astype(np.uint8), discs


def _render(background: np.ndarray, discs: list[dict], frame_index: int) -> np.ndarray:
    import cv2

    frame = background.copy()
    for disc in discs:
        x, y = disc["position"]
        centre = (int(round(x)), int(round(y + FALL * frame_index)))
        colour = tuple(int(255 * c) for c in disc["colour"])
        cv2.circle(frame, centre, disc["radius"], colour, -1, cv2.LINE_AA)
    return frame


def falling_discs_tree(folder: Path, seed: int) -> Path:
    """The demo's frame tree (made once, then reused): ``SEQUENCES`` training and ``TEST`` test
    sequences of ``FRAMES`` frames at 64x64, discs falling over a static background seen by a still
    camera, each sequence from its own seed."""
    from framepred.data.tree import SequenceWriter, summarise_tree, write_manifest

    if (folder / "manifest.json").is_file():
        return folder
    seeds = np.random.SeedSequence(seed).spawn(SEQUENCES + TEST)
    for index, sequence_seed in enumerate(seeds):
        split, number = ("train", index) if index < SEQUENCES else ("test", index - SEQUENCES)
        background, discs = _scene(np.random.default_rng(sequence_seed))
        with SequenceWriter(folder, split, f"seq{number:04d}") as writer:
            for frame_index in range(FRAMES):
                writer.write(_render(background, discs, frame_index))
    write_manifest(folder, summarise_tree(folder, source="videogan demo: falling discs", seed=seed))
    return folder


def _grid(rows: list[list[np.ndarray]], gap: int = 4) -> np.ndarray:
    """Equal-sized uint8 images as a grid (a list of rows) with white gaps between them."""

    def join(images: list[np.ndarray], axis: int) -> np.ndarray:
        shape = list(images[0].shape)
        shape[axis] = gap
        white = np.full(shape, 255, np.uint8)
        parts = [part for image in images for part in (image, white)][:-1]
        return np.concatenate(parts, axis)

    return join([join(row, 1) for row in rows], 0)


def _futures_gif(weights: Path, data: Path, path: Path, device: str) -> None:
    """One row per test sequence: input (frame 0) | generated | real | mask, frame by frame; frame 0
    shows the input where the model made its reconstruction."""
    import torch

    from framepred.data.tree import FrameTree
    from framepred.inference.predictor import Predictor, to_uint8

    predictor = Predictor.from_checkpoint(weights, device=device)
    videos = []
    for sequence in FrameTree(data).sequences("test"):
        truth = sequence.read_all()[:FRAMES]
        context = torch.from_numpy(truth[0]).permute(2, 0, 1).float().div(255.0)[None, None]
        with torch.inference_mode():
            streams = predictor.model.streams(context.to(predictor.device))
        made = [truth[0]] + [to_uint8(f) for f in streams["video"][0, 1:]]
        mask = [to_uint8(f) for f in streams["mask"][0]]
        videos.append([[truth[0], made[t], truth[t], mask[t]] for t in range(FRAMES)])
    frames = [[_grid([video[t] for video in videos])] for t in range(FRAMES)]
    write_panels_gif(path, frames, fps=8, zoom=2)


def run(options: DemoOptions) -> DemoResult:
    """Prepare, train, evaluate and render."""
    from framepred.engine.trainer import train
    from framepred.metrics.evaluate import evaluate_tree

    options.out.mkdir(parents=True, exist_ok=True)
    data = falling_discs_tree(options.out / "data", options.seed)
    run_dir = fresh_folder(options.out / "run")
    steps = options.steps or STEPS
    config = demo_config(
        options, "videogan", data, run_dir, steps, BATCH, MINUTES, dict(DEMO_TASK),
        val_every=max(steps // 4, 25), val_samples=TEST,
    )  # fmt: skip
    result = train(config)
    weights = run_dir / "checkpoints" / "last" / "model.safetensors"
    scores = evaluate_tree(
        data, weights=weights, split="test", protocol="next", steps=FRAMES - 1, metrics="psnr,ssim",
        device=options.device, baselines=["copy-last"], seed=options.seed,
    )  # fmt: skip
    gif = options.out / "futures.gif"
    _futures_gif(weights, data, gif, options.device)
    label = f"videogan ({result.steps} steps)"
    copy_last = scores["baselines"]["copy-last"]["mean"]
    rows = {
        label: {"psnr": scores["mean"]["psnr"], "ssim": scores["mean"]["ssim"]},
        "copy-last": {"psnr": copy_last["psnr"], "ssim": copy_last["ssim"]},
    }
    summary = {
        "model": rows[label],
        "copy-last": rows["copy-last"],
        "per_step_psnr": [row["psnr"] for row in scores["per_step"]],
        "copy_last_per_step_psnr": [row["psnr"] for row in scores["baselines"]["copy-last"]["per_step"]],
        "steps": result.steps,
        "test_sequences": scores["count"],
        "run_dir": str(run_dir),
        "futures": str(gif),
    }
    write_results(options.out / "results.json", summary)
    per_step = {
        label: {f"psnr t+{row['step']}": row["psnr"] for row in run["per_step"] if row["step"] in TABLE_STEPS}
        for label, run in ((label, scores), ("copy-last", scores["baselines"]["copy-last"]))
    }
    return DemoResult(
        title=f"frames 1-31 from frame 0, mean over the synthetic test split ({scores['count']} videos)",
        rows=rows,
        files={"futures (input | generated | real | mask)": str(gif), "training run": str(run_dir)},
        steps=result.steps,
        beats_baselines=scores["mean"]["psnr"] > copy_last["psnr"],
        extra={"json": {k: summary[k] for k in ("model", "copy-last", *PER_STEP_KEYS)}},
        tables=[(f"PSNR (dB) per step, all generated from frame 0 ({scores['count']} videos)", per_step)],
    )
