"""The task interface: everything a training recipe decides, nothing the engine decides.

The engine owns the loop, devices, precision, distribution, checkpoints and logging. A task owns:
which model to build, how a batch of clips splits into optimiser steps, the loss of one step, the
optimiser and its learning-rate schedule, the data augmentation, and the prediction used for
validation.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from typing import Any, ClassVar

import torch
from torch import nn

from framepred.data.augment import AugmentOptions


class Task(ABC):
    name: ClassVar[str] = ""
    Options: ClassVar[type]  # a dataclass of every number the recipe uses, with its defaults
    # DDP must tolerate parameters without gradient in a step (e.g. a router that is switched off).
    find_unused_parameters: ClassVar[bool] = False

    def __init__(self, options: Any) -> None:
        self.options = options

    # ---- model and data ------------------------------------------------------------------------
    @abstractmethod
    def build_model(self) -> nn.Module:
        """A freshly initialised registered model (initialisation draws from torch's global RNG)."""

    @property
    @abstractmethod
    def clip_frames(self) -> int:
        """Frames per training clip the data loader delivers."""

    @abstractmethod
    def augmentation(self) -> AugmentOptions:
        """Random crop size and the geometric/colour augmentations, identical for all frames of a clip."""

    @abstractmethod
    def step_inputs(self, clips: torch.Tensor) -> Iterator[torch.Tensor]:
        """Split clips (``B x N x 3 x H x W`` floats in [0, 1]) into one model input per optimiser step."""

    def steps_per_batch(self) -> int:
        return sum(1 for _ in self.step_inputs(torch.zeros(1, self.clip_frames, 1, 1, 1)))

    # ---- losses ----------------------------------------------------------------------------------
    def setup(self, device: torch.device) -> None:  # noqa: B027  (optional hook)
        """Build loss modules (frozen networks, kernels) on ``device``."""

    def loss_term_names(self) -> list[str]:
        """Names of the loss terms ``loss`` reports (columns of metrics.csv)."""
        return []

    @abstractmethod
    def loss(self, model: nn.Module, inputs: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        """The scalar loss of one optimiser step and its named terms (plain floats, for logging)."""

    # ---- optimisation ----------------------------------------------------------------------------
    @abstractmethod
    def configure_optimizer(self, model: nn.Module) -> torch.optim.Optimizer: ...

    @abstractmethod
    def learning_rate(self, iteration: int, total_iterations: int) -> float:
        """The learning rate for data-loader batch ``iteration`` (0-based) of ``total_iterations``."""

    # ---- validation ------------------------------------------------------------------------------
    def predict(self, model: nn.Module, context: torch.Tensor) -> torch.Tensor:
        """Next frame from ``B x T x 3 x H x W`` context, as the model's own ``predict`` does."""
        return model.predict(context)

    @property
    def context_frames(self) -> int:
        return 2
