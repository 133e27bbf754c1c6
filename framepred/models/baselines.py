"""Baselines every evaluation can show beside a model: copy the last frame, or extrapolate linearly."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from framepred.errors import UsageError
from framepred.models.registry import register_model


@dataclass(frozen=True)
class BaselineConfig:
    # Copy-last reads only the newest frame; fewer context frames let it stand beside a model that
    # reads one image (VideoGAN) in the same evaluation windows.
    context_frames: int = 2


class _Baseline(nn.Module):
    size_multiple = 1
    fewest_frames = 1

    def __init__(self, config: BaselineConfig) -> None:
        super().__init__()
        if config.context_frames < self.fewest_frames:
            raise UsageError(
                f"{self.registered_name} needs at least {self.fewest_frames} context frame(s), "
                f"got {config.context_frames}"
            )
        self.config = config

    @property
    def context_frames(self) -> int:
        return self.config.context_frames


@register_model("copy-last", BaselineConfig, "repeat the newest context frame", trainable=False)
class CopyLast(_Baseline):
    def predict(self, context: torch.Tensor) -> torch.Tensor:
        return context[:, -1].clone()


@register_model(
    "linear", BaselineConfig, "extrapolate each pixel linearly from the last two frames", trainable=False
)
class LinearExtrapolation(_Baseline):
    fewest_frames = 2

    def predict(self, context: torch.Tensor) -> torch.Tensor:
        return (2.0 * context[:, -1] - context[:, -2]).clamp(0.0, 1.0)
