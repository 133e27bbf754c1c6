"""A tiny recipe trained in two stages, for engine tests only (a plugin:
``FRAMEPRED_PLUGINS=tests.engine.toy_staged``).

The registered model ``toy-staged`` has two parts, ``first`` and ``second``; stage ``first`` trains
only the first part, stage ``second`` only the second, each through one optimizer that holds that
part's parameters alone. Each part records in a buffer that a training-mode forward ran through it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from framepred.data.augment import AugmentOptions
from framepred.models.registry import register_model
from framepred.tasks.base import DataSpec, Nets, Phase, Task
from framepred.tasks.options import option
from framepred.tasks.registry import register_task


@dataclass(frozen=True)
class ToyStagedConfig:
    width: int = 4


@register_model("toy-staged", ToyStagedConfig, "engine-test model trained in two stages", small={})
class ToyStaged(nn.Module):
    context_frames = 2
    size_multiple = 1

    def __init__(self, config: ToyStagedConfig) -> None:
        super().__init__()
        self.config = config
        w = config.width
        self.first = nn.Sequential(nn.Conv2d(6, w, 3, padding=1), nn.ReLU(), nn.Conv2d(w, 3, 3, padding=1))
        self.second = nn.Conv2d(3, 3, 3, padding=1)

    def forward(self, context: torch.Tensor) -> torch.Tensor:
        motion = context[:, -1] + 0.1 * torch.tanh(self.first(context.flatten(1, 2)))
        return (motion + 0.1 * torch.tanh(self.second(motion))).clamp(0.0, 1.0)

    def predict(self, context: torch.Tensor) -> torch.Tensor:
        return self(context)


@dataclass
class ToyStagedOptions:
    lr: float = option(5e-3, "Adam learning rate of both stages.")
    crop: int = option(32, "Random crop side.")


@register_task("toy-staged")
class ToyStagedTask(Task):
    Options = ToyStagedOptions
    stages = ("first", "second")

    def build_model(self) -> nn.Module:
        return ToyStaged(ToyStagedConfig())

    def data(self) -> DataSpec:
        return DataSpec(clip_frames=3, augment=AugmentOptions(crop=self.options.crop, rotate=False))

    def phases(self) -> tuple[Phase, ...]:
        return (Phase(self.stage, "model", self.stage_loss, terms=("l1",)),)

    def stage_loss(self, nets: Nets, clips: torch.Tensor, step: int) -> tuple[torch.Tensor, dict[str, float]]:
        l1 = (nets.model(clips[:, :2]) - clips[:, 2]).abs().mean()
        return l1, {"l1": float(l1.detach())}

    def configure_optimizers(self, nets: Nets) -> dict[str, torch.optim.Optimizer]:
        part = nets.model.first if self.stage == "first" else nets.model.second
        return {"model": torch.optim.Adam(part.parameters(), lr=self.options.lr)}

    def learning_rates(self, iteration: int, total: int) -> dict[str, float]:
        return {"model": self.options.lr}

    @classmethod
    def tiny_options(cls) -> dict[str, Any]:
        return {}
