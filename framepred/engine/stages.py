"""Recipes trained in stages (``Task.stages``): one ordinary run per stage, inside one run directory.

``RUN/stages/<stage>/`` is a run directory like any other (config.yaml, metrics.csv, events, samples,
checkpoints/last and best). A stage starts from ``RUN/checkpoints/last/model.safetensors`` when that
exists, i.e. from the predicting network with every stage trained so far (``--init`` gives the first
stage of a command its weights instead), and trains what the recipe's optimizers hold for that stage.
When a stage ends, its ``last`` weights are copied to ``RUN/checkpoints/last/model.safetensors``, so
that one file always holds every finished stage and drives predict/rollout/evaluate.

``--stage all`` (the default) trains the recipe's stages in order, ``--stage NAME`` one of them;
``--steps``/``--epochs`` are per stage. A later command into the same run keeps the recipe options
saved in ``RUN/config.yaml`` unless it gives them again, so every stage builds the same network.
``--resume`` continues every selected stage that has a checkpoint and starts the others; it needs only
``--run-dir``. Every selected stage's options and data are checked before the first one trains.
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from framepred.engine import distributed
from framepred.engine.checkpointing import WEIGHTS_NAME, recover
from framepred.engine.config import TrainConfig
from framepred.engine.logging import log_line
from framepred.errors import UsageError
from framepred.io.atomic import atomic_path
from framepred.tasks import create_task
from framepred.tasks.base import Task
from framepred.tasks.registry import task_class

if TYPE_CHECKING:
    from framepred.engine.trainer import TrainResult

ALL = "all"


def selected_stages(config: TrainConfig) -> list[str | None]:
    """The stages ``config.stage`` asks for, in training order ([None] for a one-stage recipe)."""
    stages = task_class(config.task).stages
    if not stages:
        if config.stage is not None:
            raise UsageError(f"the {config.task!r} recipe trains in one stage; drop --stage")
        return [None]
    if config.stage in (None, ALL):
        return list(stages)
    if config.stage not in stages:
        raise UsageError(
            f"the {config.task!r} recipe has no stage {config.stage!r}: choose one of "
            f"{', '.join(stages)} or {ALL}"
        )
    return [config.stage]


def stage_tasks(config: TrainConfig) -> list[tuple[Task, TrainConfig]]:
    """Each selected stage's task and a copy of ``config`` to open its data with."""
    found = []
    for stage in selected_stages(config):
        task = create_task(config.task, stage=stage, **config.task_options)
        found.append((task, dataclasses.replace(config, stage=stage)))
    return found


def published_weights(run_dir: str | Path) -> Path:
    return Path(run_dir) / "checkpoints" / "last" / WEIGHTS_NAME


def _publish(stage_dir: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(target) as temp:
        shutil.copyfile(stage_dir / "checkpoints" / "last" / WEIGHTS_NAME, temp)


def _check_not_a_stage(run_dir: Path) -> None:
    if run_dir.parent.name == "stages" and (run_dir.parent.parent / "config.yaml").is_file():
        run = run_dir.parent.parent
        raise UsageError(
            f"{run_dir} is the {run_dir.name!r} stage of the run {run}; give --run-dir {run} "
            f"(with --stage {run_dir.name})"
        )


def _keep_run_options(config: TrainConfig, run_dir: Path, resume: bool, info: distributed.DistInfo) -> None:
    """A stage trained into an existing run keeps the recipe options the run was given, unless given
    again (its stages must build the same network)."""
    saved_path = run_dir / "config.yaml"
    if resume or not saved_path.is_file():
        return
    saved = TrainConfig.load(saved_path)
    if saved.task != config.task:
        raise UsageError(f"{run_dir} is a {saved.task!r} run; train {config.task!r} into another --run-dir")
    kept = {k: v for k, v in saved.task_options.items() if k not in config.task_options}
    if kept:
        config.task_options = {**kept, **config.task_options}
        listed = ", ".join(f"{k}={v!r}" for k, v in kept.items())
        log_line(f"recipe options of {saved_path} kept: {listed}", info.is_main)


def train_stages(
    config: TrainConfig, info: distributed.DistInfo, device: torch.device, resume: bool
) -> TrainResult:
    """Train the selected stages one after another into ``config.run_dir`` (see the module text)."""
    from framepred.engine.data import open_training_data
    from framepred.engine.trainer import Trainer, TrainResult

    run_dir = Path(config.run_dir)
    _check_not_a_stage(run_dir)
    _keep_run_options(config, run_dir, resume, info)
    for task, stage_config in stage_tasks(config):
        open_training_data(stage_config, task)
    if info.is_main:
        run_dir.mkdir(parents=True, exist_ok=True)
        config.save(run_dir / "config.yaml")
    published = published_weights(run_dir)
    names = selected_stages(config)
    steps, result = 0, None
    for index, name in enumerate(names):
        folder = run_dir / "stages" / str(name)
        last = folder / "checkpoints" / "last"
        recover(last)
        again = resume and last.is_dir()
        init = None
        if not again and index == 0 and config.init:
            init = config.init
        elif not again and published.is_file():
            init = str(published)
        start = "resumed" if again else f"starting from {init}" if init else "starting afresh"
        log_line(f"stage {name} ({index + 1} of {len(names)}), {start}, in {folder}", info.is_main)
        stage_config = dataclasses.replace(config, run_dir=str(folder), stage=name, init=init)
        result = Trainer(stage_config, info, device, again).run()
        steps += result.steps
        if info.is_main:
            _publish(folder, published)
            log_line(f"stage {name} done; {published} holds every stage trained so far", True)
        distributed.barrier(info)
    assert result is not None
    return TrainResult(run_dir, steps, result.validation, result.best_psnr)
