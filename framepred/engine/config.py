"""Every option of a training run, resolved, in one dataclass (saved as the run's config.yaml)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from framepred.errors import UsageError

AMP_MODES = ("none", "bf16", "fp16")


@dataclass
class TrainConfig:
    task: str = ""  # the recipe (framepred train NAME)
    data: str = ""  # frame tree (or `framepred clip` shards, for recipes that take them)
    run_dir: str = ""
    steps: int | None = None  # optimiser steps; or
    epochs: int | None = None  # passes over the training clips
    batch_size: int = 8  # clips per process
    seed: int = 1234
    device: str = "auto"
    amp: str = "none"  # none | bf16 | fp16 (CUDA; bf16 also on CPU)
    compile: bool = False
    channels_last: bool = False
    grad_clip: float | None = None  # max gradient norm; None = no clipping (the official recipe)
    save_every: int = 1000  # optimiser steps between 'last' checkpoints (and one at the end)
    val_every: int = 1000  # optimiser steps between validations (and one at the end)
    train_split: str | None = None  # default: 'train', else every split but val and test
    val_split: str | None = None  # default: 'val'; 'test' validates for monitoring only (no best)
    val_fraction: float = 0.05  # of the training sequences, held out when there is no val split
    val_data: str | None = None  # another frame tree to validate on
    val_samples: int = 32  # windows validated (evenly spread over the validation sequences)
    val_at_start: bool = False  # validate once before the first step (not on resume): the untrained start
    log_every: int = 50  # optimiser steps between progress lines
    num_workers: int = 0  # data-loader worker processes
    max_minutes: float | None = None  # stop early (validate, save) once training has run this long
    ema: float | None = None  # EMA decay of the predicting network (default: the recipe's, usually none)
    init: str | None = None  # start from this checkpoint's weights (a framepred or official file)
    stage: str | None = None  # recipes trained in stages: one of them, or "all" (the default)
    task_options: dict[str, Any] = field(default_factory=dict)

    def validate(self) -> None:
        if not self.task:
            raise UsageError("no recipe: name one (framepred train NAME; TrainConfig(task=NAME))")
        if not self.data:
            raise UsageError("no training data: pass --data TREE (make one with `framepred prepare`)")
        if (self.steps is None) == (self.epochs is None):
            raise UsageError("give exactly one of --steps N or --epochs N")
        if (self.steps or 1) < 1 or (self.epochs or 1) < 1:
            raise UsageError("--steps and --epochs must be at least 1")
        if self.batch_size < 1:
            raise UsageError("--batch-size must be at least 1")
        if self.amp not in AMP_MODES:
            raise UsageError(f"unknown --amp {self.amp!r}: choose one of {', '.join(AMP_MODES)}")
        if self.save_every < 1 or self.val_every < 1:
            raise UsageError("--save-every and --val-every must be at least 1")
        if not 0.0 <= self.val_fraction < 1.0:
            raise UsageError(f"--val-fraction must be in [0, 1), got {self.val_fraction}")
        if self.ema is not None and not 0.0 < self.ema < 1.0:
            raise UsageError(f"--ema is a decay in (0, 1), e.g. 0.999; got {self.ema}")
        if self.val_samples < 1:
            raise UsageError("--val-samples must be at least 1")
        if self.grad_clip is not None and self.grad_clip <= 0:
            raise UsageError(f"--grad-clip must be positive, got {self.grad_clip}")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def save(self, path: Path) -> None:
        from framepred.io.atomic import write_text_atomic

        write_text_atomic(path, yaml.safe_dump(self.to_dict(), sort_keys=False))

    @classmethod
    def load(cls, path: Path) -> TrainConfig:
        if not Path(path).is_file():
            raise UsageError(f"{path}: no config.yaml; is this a framepred run directory?")
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})
