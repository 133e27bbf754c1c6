"""The entry point behind ``framepred train``: resolve the run directory, then train here or re-launch.

With ``nproc > 1`` (``--gpus N`` or ``--nproc N``) the same command line runs again under
``torch.distributed.run``, minus the launcher options and with the resolved run directory and device
pinned, so every process agrees on them.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from framepred.engine.config import TrainConfig
from framepred.errors import UsageError


@dataclass(frozen=True)
class LaunchOptions:
    gpus: int | None = None
    nproc: int | None = None
    nnodes: int = 1
    node_rank: int = 0
    master_addr: str | None = None
    master_port: int | None = None


def next_run_dir(base: Path, name: str) -> Path:
    """``base/name``, or ``base/name-2``, ``-3`` ... whichever does not exist yet."""
    candidate, n = base / name, 1
    while candidate.exists():
        n += 1
        candidate = base / f"{name}-{n}"
    return candidate


def resolve_config(config: TrainConfig, resume: bool, overrides: dict[str, Any]) -> TrainConfig:
    """For a new run: ``config`` with a fresh run directory. For ``resume``: the saved config.yaml,
    with only the length of the run (``steps``/``epochs``), the device and the stage taken from
    ``overrides``; recipe options given again must equal the saved ones."""
    if not resume:
        if not config.run_dir:
            config.run_dir = str(next_run_dir(Path("runs") / "train", config.task))
        return config
    if not config.run_dir:
        raise UsageError("--resume needs --run-dir DIR: the run directory to continue")
    saved = TrainConfig.load(Path(config.run_dir) / "config.yaml")
    if saved.task != config.task:
        raise UsageError(
            f"{config.run_dir} is a {saved.task!r} run; resume it with `framepred train {saved.task}`"
        )
    changed = sorted(k for k, v in config.task_options.items() if saved.task_options.get(k, v) != v)
    if changed:
        was = ", ".join(f"{k}={saved.task_options[k]!r}" for k in changed)
        raise UsageError(
            f"{config.run_dir} was started with {was}; --resume continues with the saved options, so drop "
            "or match them (start a new run, or --init from its weights, to change them)"
        )
    if overrides.get("steps") is not None:
        saved.steps, saved.epochs = overrides["steps"], None
    elif overrides.get("epochs") is not None:
        saved.steps, saved.epochs = None, overrides["epochs"]
    if overrides.get("device") is not None:
        saved.device = overrides["device"]
    if overrides.get("stage") is not None:
        saved.stage = overrides["stage"]
    saved.run_dir = config.run_dir
    return saved


def check_before_launch(config: TrainConfig) -> None:
    """Refuse bad recipe options and unusable data here, in one line, rather than in every process
    the launcher starts (where each would print a traceback)."""
    from framepred.engine.data import open_training_data
    from framepred.engine.stages import stage_tasks

    for task, stage_config in stage_tasks(config):
        open_training_data(stage_config, task)
    if config.init:
        from framepred.models.zoo import resolve_weights

        config.init = str(resolve_weights(config.init))  # one download, before the processes start


def launch_training(
    config: TrainConfig,
    resume: bool,
    launch: LaunchOptions,
    overrides: dict[str, Any],
    argv: list[str] | None = None,
) -> Any:
    """Train in this process, or re-launch ``argv`` (default ``sys.argv[1:]``) under torch.distributed.run.

    Returns the TrainResult of this process, or the launcher's exit status (an int) after a re-launch.
    """
    config = resolve_config(config, resume, overrides)
    config.validate()
    if launch.gpus is not None and launch.nproc is not None:
        raise UsageError("give --gpus N (CUDA) or --nproc N (CPU processes), not both")
    count = launch.gpus if launch.gpus is not None else launch.nproc
    if count is None:
        from framepred.engine.trainer import train

        return train(config, resume=resume)
    if count < 1:
        raise UsageError("--gpus and --nproc must be at least 1")
    check_before_launch(config)
    from framepred.engine import distributed

    if launch.gpus is not None:
        import torch

        if not torch.cuda.is_available() or torch.cuda.device_count() < launch.gpus:
            have = torch.cuda.device_count() if torch.cuda.is_available() else 0
            raise UsageError(
                f"--gpus {launch.gpus} asked for, this machine has {have}; use --nproc N on the CPU"
            )
    device = "cuda" if launch.gpus is not None else "cpu"
    args = distributed.strip_launch_options(list(sys.argv[1:] if argv is None else argv))
    args += ["--run-dir", config.run_dir, "--device", device]
    command = distributed.launch_command(
        args, count, launch.nnodes, launch.node_rank, launch.master_addr, launch.master_port
    )
    return distributed.relaunch(command)
