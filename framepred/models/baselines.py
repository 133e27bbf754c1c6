"""Baselines every evaluation can show beside a model: copy the last frame, or extrapolate linearly."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from framepred.models.registry import register_model


@dataclass(frozen=True)
class BaselineConfig:
    pass


class _Baseline(nn.Module):
    context_frames = 2
    size_multiple = 1

    def __init__(self, config: BaselineConfig) -> None:
        super().__init__()
        self.config = config


@register_model("copy-last", BaselineConfig, "repeat the newest context frame", trainable=False)
class CopyLast(_Baseline):
    def predict(self, context: torch.Tensor) -> torch.Tensor:
        return context[:, -1].clone()


@register_model(
    "linear", BaselineConfig, "extrapolate each pixel linearly from the last two frames", trainable=False
)
class LinearExtrapolation(_Baseline):
    def predict(self, context: torch.Tensor) -> torch.Tensor:
        return (2.0 * context[:, -1] - context[:, -2]).clamp(0.0, 1.0)
