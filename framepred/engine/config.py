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
    task: str = "dmvfn"
    data: str = ""  # frame tree
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
    val_split: str | None = None  # default: 'val', else 'test', else no validation
    val_samples: int = 32  # triplets validated (evenly spread over the split)
    log_every: int = 50  # optimiser steps between progress lines
    num_workers: int = 0  # data-loader worker processes
    clip_stride: int | None = None  # frames between clip starts (default: clip length, no overlap)
    max_minutes: float | None = None  # stop early (validate, save) once training has run this long
    task_options: dict[str, Any] = field(default_factory=dict)

    def validate(self) -> None:
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
