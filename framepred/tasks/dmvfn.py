"""The official DMVFN training recipe (spec dmvfn.md §7).

Per clip of N frames, every consecutive triplet (t-1, t, target) is one optimiser step. The loss of a
step is ``sum_i decay^(last - i) * LapLoss(output_i, target)`` over the network's deep-supervision
outputs plus ``perceptual_weight * VGG(last output, target)``. AdamW with weight decay 1e-3; the
learning rate warms up linearly 1e-5 -> 1e-4 over 2000 data-loader batches (all triplets of a batch
share it, as in the official code), then follows a cosine to 1e-5 at the end of training.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from framepred.data.augment import AugmentOptions
from framepred.losses.pixel import LaplacianLoss
from framepred.models.registry import create_model
from framepred.tasks.base import Task
from framepred.tasks.registry import register_task
from framepred.tasks.schedule import warmup_cosine


@dataclass
class DMVFNTaskOptions:
    clip_frames: int = 10  # frames per training clip (Cityscapes 30, KITTI 9, UCF101 10 in the paper)
    crop: int | None = 256
    rotate: bool = True
    channel_swap: bool = True
    flip: bool = True
    lr_start: float = 1e-5
    lr_peak: float = 1e-4
    lr_end: float = 1e-5
    warmup: int = 2000  # data-loader batches
    weight_decay: float = 1e-3
    block_decay: float = 0.8  # weight of block i's Laplacian term: block_decay ** (last - i)
    lap_levels: int = 5
    perceptual: bool = True
    perceptual_weight: float = 0.5
    vgg_weights: str | None = None  # default: torch hub cache
    model: dict[str, Any] = field(default_factory=dict)  # DMVFNConfig overrides (features, routing, ...)


@register_task("dmvfn")
class DMVFNTask(Task):
    Options = DMVFNTaskOptions
    find_unused_parameters = True  # as the official DDP wrapper; routing="all" leaves the router unused

    def __init__(self, options: DMVFNTaskOptions) -> None:
        super().__init__(options)
        self.lap: LaplacianLoss | None = None
        self.vgg: nn.Module | None = None

    def build_model(self) -> nn.Module:
        return create_model("dmvfn", **self.options.model)

    @property
    def clip_frames(self) -> int:
        return self.options.clip_frames

    def augmentation(self) -> AugmentOptions:
        o = self.options
        return AugmentOptions(crop=o.crop, rotate=o.rotate, channel_swap=o.channel_swap, flip=o.flip)

    def step_inputs(self, clips: torch.Tensor) -> Iterator[torch.Tensor]:
        batch, frames, channels, height, width = clips.shape
        for k in range(frames - 2):
            # (img0, img1, gt) stacked on channels: the official B x 9 x H x W training input.
            yield clips[:, k : k + 3].reshape(batch, 3 * channels, height, width)

    def setup(self, device: torch.device) -> None:
        self.lap = LaplacianLoss(levels=self.options.lap_levels).to(device)
        if self.options.perceptual and self.options.perceptual_weight > 0:
            from framepred.losses.perceptual import VGGPerceptualLoss

            self.vgg = VGGPerceptualLoss(self.options.vgg_weights).to(device)

    def loss_term_names(self) -> list[str]:
        return ["lap", "vgg"] if self.options.perceptual and self.options.perceptual_weight > 0 else ["lap"]

    def loss(self, model: nn.Module, inputs: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        if self.lap is None:
            self.setup(inputs.device)
        outputs = model(inputs, None, True)
        target = inputs[:, 6:9].float()
        last = len(outputs) - 1
        # Losses in float32 whatever precision the network ran in.
        with torch.autocast(device_type=inputs.device.type, enabled=False):
            lap = sum(
                self.options.block_decay ** (last - i) * self.lap(out.float(), target)
                for i, out in enumerate(outputs)
            )
            total = lap
            terms = {"lap": float(lap.detach())}
            if self.vgg is not None:
                vgg = self.vgg(outputs[-1].float(), target)
                total = total + self.options.perceptual_weight * vgg
                terms["vgg"] = float(vgg.detach())
        return total, terms

    def configure_optimizer(self, model: nn.Module) -> torch.optim.Optimizer:
        return torch.optim.AdamW(
            model.parameters(), lr=self.options.lr_start, weight_decay=self.options.weight_decay
        )

    def learning_rate(self, iteration: int, total_iterations: int) -> float:
        o = self.options
        return warmup_cosine(iteration, total_iterations, o.lr_start, o.lr_peak, o.lr_end, o.warmup)
