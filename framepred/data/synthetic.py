"""The built-in synthetic data set: textured objects moving over a moving background.

Each sequence has a textured background seen through a camera that pans and zooms at a constant
rate, and a few textured shapes (discs, boxes, polygons) that translate, rotate and occlude each
other in a fixed depth order. Every motion is smooth and consistent over time, so copying the last
frame is a poor predictor and a model must learn motion to beat it. Each sequence is drawn from its
own seed (derived from the data-set seed and the sequence index), so the output is identical for
any number of workers.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from framepred.data.manifest import SplitSource
from framepred.data.prepare.jobs import SequenceJob
from framepred.data.prepare.write import PrepareResult, WritePlan, write_plan
from framepred.data.sharding import Shard
from framepred.errors import UsageError

_CANVAS_SCALE = 2  # the background canvas is this many times the frame size, room for the camera to move


@dataclass(frozen=True)
class SyntheticConfig:
    train: int = 48
    test: int = 12
    frames: int = 16
    width: int = 128
    height: int = 128
    objects: tuple[int, int] = (2, 5)
    seed: int = 0


def _texture(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """A colourful texture with coarse blobs, fine grain and stripes, uint8 RGB."""
    coarse = cv2.resize(
        rng.random((4, 4, 3), dtype=np.float32), (width, height), interpolation=cv2.INTER_CUBIC
    )
    medium = cv2.resize(
        rng.random((16, 16, 3), dtype=np.float32), (width, height), interpolation=cv2.INTER_LINEAR
    )
    fine = rng.random((height, width, 1), dtype=np.float32)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    angle = rng.uniform(0, np.pi)
    period = rng.uniform(6, 18)
    stripes = 0.5 + 0.5 * np.sin((xx * np.cos(angle) + yy * np.sin(angle)) * 2 * np.pi / period)
    base = rng.uniform(0.1, 0.9, size=3).astype(np.float32)
    image = (
        0.35 * base + 0.3 * coarse + 0.15 * medium + 0.1 * fine + 0.15 * stripes[..., None] * rng.random(3)
    )
    return (np.clip(image, 0, 1) * 255).astype(np.uint8)


def _shape_mask(rng: np.random.Generator, size: int) -> np.ndarray:
    """A filled disc, box or random convex polygon centred in a size x size square, float in [0, 1]."""
    mask = np.zeros((size, size), np.uint8)
    centre = size // 2
    kind = rng.integers(3)
    if kind == 0:
        cv2.circle(mask, (centre, centre), int(size * rng.uniform(0.3, 0.45)), 255, -1, cv2.LINE_AA)
    elif kind == 1:
        half_w, half_h = (int(size * rng.uniform(0.2, 0.45)) for _ in range(2))
        cv2.rectangle(mask, (centre - half_w, centre - half_h), (centre + half_w, centre + half_h), 255, -1)
    else:
        angles = np.sort(rng.uniform(0, 2 * np.pi, size=int(rng.integers(3, 7))))
        radius = size * rng.uniform(0.3, 0.45)
        points = np.stack([centre + radius * np.cos(angles), centre + radius * np.sin(angles)], 1)
        cv2.fillPoly(mask, [points.astype(np.int32)], 255, cv2.LINE_AA)
    return mask.astype(np.float32) / 255.0


def _render_sequence(config: dict[str, Any]) -> Iterator[tuple[np.ndarray, str]]:
    rng = np.random.default_rng(config["entropy"])
    width, height, frames = config["width"], config["height"], config["frames"]
    canvas = _texture(rng, height * _CANVAS_SCALE, width * _CANVAS_SCALE)
    # Camera: centre moves at a constant velocity, zoom changes at a constant rate.
    centre = np.array([width, height], np.float64) * _CANVAS_SCALE / 2
    pan = rng.uniform(-1.5, 1.5, size=2)
    zoom, zoom_rate = rng.uniform(0.9, 1.1), rng.uniform(-0.008, 0.008)
    objects = []
    for _ in range(int(rng.integers(config["objects"][0], config["objects"][1] + 1))):
        size = int(min(width, height) * rng.uniform(0.2, 0.45))
        objects.append(
            {
                "texture": _texture(rng, size, size).astype(np.float32),
                "mask": _shape_mask(rng, size),
                "position": rng.uniform([0.15 * width, 0.15 * height], [0.85 * width, 0.85 * height]),
                "velocity": rng.uniform(1.0, 3.5)
                * np.array([np.cos(a := rng.uniform(0, 2 * np.pi)), np.sin(a)]),
                "angle": rng.uniform(0, 360),
                "spin": rng.uniform(-6, 6),
            }
        )
    for index in range(frames):
        scale = zoom + zoom_rate * index
        camera = cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), 0.0, scale)
        camera[:, 2] += np.array([width, height]) / 2 - centre  # view window centred on the camera
        frame = cv2.warpAffine(
            canvas, camera, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT
        )
        frame = frame.astype(np.float32)
        for thing in objects:
            size = thing["mask"].shape[0]
            placement = cv2.getRotationMatrix2D((size / 2, size / 2), thing["angle"], 1.0)
            placement[:, 2] += thing["position"] - size / 2
            texture = cv2.warpAffine(thing["texture"], placement, (width, height), flags=cv2.INTER_LINEAR)
            alpha = cv2.warpAffine(thing["mask"], placement, (width, height), flags=cv2.INTER_LINEAR)[
                ..., None
            ]
            frame = frame * (1 - alpha) + texture * alpha
            thing["position"] = thing["position"] + thing["velocity"]
            thing["angle"] += thing["spin"]
            # Bounce off the frame borders so objects stay in view.
            for axis, limit in ((0, width), (1, height)):
                if not 0.1 * limit <= thing["position"][axis] <= 0.9 * limit:
                    thing["velocity"][axis] *= -1
        centre = centre + pan
        yield (
            np.clip(frame + 0.5, 0, 255).astype(np.uint8),
            f"synthetic seed {config['seed']} #{config['index']}",
        )


def prepare_synthetic(
    out: Path, config: SyntheticConfig = SyntheticConfig(), workers: int = 1, shard: Shard | None = None
) -> PrepareResult:
    """Render the synthetic data set (train and test splits) into a frame tree under ``out``.

    With ``shard`` (task K of N), only that task's share of the sequences.
    """
    if config.frames < 3:
        raise UsageError(
            f"--frames must be at least 3 (two context frames and a target), got {config.frames}"
        )
    if config.width < 16 or config.height < 16:
        raise UsageError(f"--size must be at least 16x16, got {config.width}x{config.height}")
    if config.train < 0 or config.test < 0 or config.train + config.test == 0:
        raise UsageError("--train and --test must be non-negative and not both zero")
    seeds = np.random.SeedSequence(config.seed).spawn(config.train + config.test)
    jobs = []
    for index, seed in enumerate(seeds):
        split = "train" if index < config.train else "test"
        number = index if index < config.train else index - config.train
        source = {
            "entropy": seed.generate_state(4).tolist(),
            "width": config.width,
            "height": config.height,
            "frames": config.frames,
            "objects": config.objects,
            "seed": config.seed,
            "index": index,
        }
        jobs.append(SequenceJob(split, f"seq{number:04d}", source))
    plan = WritePlan(
        source="synthetic",
        jobs=jobs,
        produce=_render_sequence,
        split_source=SplitSource("synthetic", asdict(config)),
        weights=[1.0] * len(jobs),  # every sequence is the same work
        description="synthetic sequences",
    )
    return write_plan(plan, out, workers, shard)
