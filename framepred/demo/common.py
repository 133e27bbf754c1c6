"""Steps every family's demo shares: the synthetic tree, a fresh run folder, the results file, GIFs."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from framepred.io.atomic import write_text_atomic

if TYPE_CHECKING:
    from framepred.demo import DemoOptions
    from framepred.engine.config import TrainConfig


def synthetic_tree(
    folder: Path, size: int, sequences: int, frames: int, seed: int, test: int | None = None
) -> Path:
    """The built-in synthetic frame tree in ``folder`` (made once; reused by later demos)."""
    from framepred.data.synthetic import SyntheticConfig, prepare_synthetic

    if not (folder / "manifest.json").is_file():
        config = SyntheticConfig(
            train=sequences,
            test=test if test is not None else max(sequences // 4, 2),
            frames=frames,
            width=size,
            height=size,
            seed=seed,
        )
        prepare_synthetic(folder, config)
    return folder


def fresh_folder(folder: Path) -> Path:
    """``folder``, emptied: the demo's own previous run."""
    if folder.exists():
        shutil.rmtree(folder)
    return folder


def write_results(path: Path, summary: dict[str, Any]) -> None:
    write_text_atomic(path, json.dumps(summary, indent=2) + "\n")


def write_panels_gif(path: Path, frames: Iterable[list[np.ndarray]], fps: float = 4, zoom: int = 3) -> None:
    """A GIF of panels side by side (one list of equal-height uint8 RGB images per frame), enlarged
    ``zoom`` times with sharp pixels and separated by white gaps."""
    from framepred.io.video import VideoWriter

    with VideoWriter(path, fps=fps) as writer:
        for panels in frames:
            gap = np.full((panels[0].shape[0], 4, 3), 255, np.uint8)
            row = [panels[0]]
            for panel in panels[1:]:
                row += [gap, panel]
            image = np.concatenate(row, 1)
            writer.write(np.repeat(np.repeat(image, zoom, 0), zoom, 1))


def demo_config(
    options: DemoOptions,
    task: str,
    data: Path,
    run_dir: Path,
    steps: int,
    batch: int,
    minutes: float,
    task_options: dict[str, Any],
    **engine: Any,
) -> TrainConfig:
    """The training run every demo makes: ``steps`` (saved once, at the end), validation on the test
    split four times, twelve log lines, stopped after ``options.max_minutes or minutes``. ``engine``
    adds or overrides engine options (``val_data``, ``val_samples``, ``val_every`` ...)."""
    from framepred.engine.config import TrainConfig

    settings: dict[str, Any] = {
        "save_every": steps,
        "val_every": max(steps // 4, 50),
        "val_split": "test",
        "log_every": max(steps // 12, 10),
        "max_minutes": options.max_minutes or minutes,
        **engine,
    }
    return TrainConfig(
        task=task,
        data=str(data),
        run_dir=str(run_dir),
        steps=steps,
        batch_size=batch,
        seed=options.seed,
        device=options.device,
        task_options=task_options,
        **settings,
    )
