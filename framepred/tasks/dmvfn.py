"""The official DMVFN training recipe (spec dmvfn.md §7).

Training clips follow the data's ``training_clips`` rule (what `prepare <source>` recorded: the
official samples of Cityscapes, KITTI, UCF101, Vimeo-90K), unless ``--clip-frames``/``--clip-stride``
are given; trees without a rule (your own footage) get 10-frame windows without overlap.
Per clip of N frames, every consecutive triplet (t-1, t, target) is one optimiser step. The loss of a
step is ``sum_i decay^(last - i) * LapLoss(output_i, target)`` over the network's deep-supervision
outputs plus ``perceptual_weight * VGG(last output, target)``. AdamW with weight decay 1e-3; the
learning rate warms up linearly 1e-5 -> 1e-4 over 2000 data-loader batches (all triplets of a batch
share it, as in the official code), then follows a cosine to 1e-5 at the end of training.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from framepred.data.augment import AugmentOptions
from framepred.data.training_clips import ClipRule, read_clip_rule
from framepred.errors import DataError, UsageError
from framepred.losses.pixel import LaplacianLoss
from framepred.models.registry import create_model, model_config
from framepred.tasks.base import DataSpec, Task
from framepred.tasks.options import option
from framepred.tasks.registry import register_task
from framepred.tasks.schedule import warmup_cosine

DEFAULT_CLIP_FRAMES = 10  # framepred's choice for trees without a rule (your footage), not the paper's


@dataclass
class DMVFNTaskOptions:
    clip_frames: int | None = option(
        None,
        "Frames per training clip; each consecutive triplet is one step (default: the tree's "
        f"training_clips rule, else {DEFAULT_CLIP_FRAMES}). Either clip option replaces the rule.",
    )
    clip_stride: int | None = option(None, "Frames between clip starts (default: the clip length).")
    crop: int | None = option(256, "Random square crop side, a multiple of 32 (none: whole frames).")
    rotate: bool = option(True, "Random 90/180/270-degree rotations.")
    channel_swap: bool = option(True, "Reverse the colour channels with probability 1/2.")
    flip: bool = option(True, "Random vertical and horizontal flips.")
    lr: float = option(1e-4, "Peak learning rate.")
    lr_start: float | None = option(None, "Learning rate at step 0 (default: lr/10).")
    lr_end: float | None = option(None, "Learning rate at the end (default: lr/10).")
    warmup: int = option(2000, "Linear warm-up length in data-loader batches.")
    weight_decay: float = option(1e-3, "AdamW weight decay.")
    block_decay: float = option(0.8, "Weight of block i's Laplacian term: block_decay^(last - i).")
    lap_levels: int = option(5, "Laplacian pyramid levels.")
    perceptual: bool = option(True, "Add the VGG19 perceptual loss (needs vgg19-dcbb9e9d.pth).")
    perceptual_weight: float = option(0.5, "Weight of the perceptual loss.")
    vgg_weights: str | None = option(None, "vgg19-dcbb9e9d.pth (default: the torch hub cache).")
    model: dict[str, Any] = option(
        {}, 'DMVFN options as JSON, e.g. \'{"routing": "all"}\'.', flag="--model-config"
    )


@register_task("dmvfn")
class DMVFNTask(Task):
    Options = DMVFNTaskOptions
    find_unused_parameters = True  # as the official DDP wrapper; routing="all" leaves the router unused

    def __init__(self, options: DMVFNTaskOptions) -> None:
        super().__init__(options)
        self.lap: LaplacianLoss | None = None
        self.vgg: nn.Module | None = None
        self.tree_rule: ClipRule | None = None  # the data's training_clips rule (use_data)

    def check_options(self) -> None:
        o = self.options
        if o.clip_frames is not None and o.clip_frames < 3:
            raise UsageError(f"--clip-frames must be at least 3 (a triplet), got {o.clip_frames}")
        if o.clip_stride is not None and o.clip_stride < 1:
            raise UsageError(f"--clip-stride must be at least 1, got {o.clip_stride}")
        if o.crop is not None:
            self._check_side(o.crop, "--crop")
        model_config("dmvfn", **o.model)  # refuses unknown or invalid model options now, not mid-run

    def _check_side(self, side: int, what: str) -> None:
        multiple = 2**self.options.lap_levels
        if side % multiple or side < 2 * multiple:
            nearest = max(2 * multiple, side // multiple * multiple)
            raise UsageError(
                f"{what} {side}: DMVFN's Laplacian loss ({self.options.lap_levels} levels) needs a multiple "
                f"of {multiple} of at least {2 * multiple}; e.g. --crop {nearest}"
            )

    def check_clip_size(self, height: int, width: int) -> None:
        if self.options.crop is None:
            for side in (height, width):
                self._check_side(side, f"training frames of {width}x{height} (no --crop): side")
            if self.options.rotate and height != width:
                # A 90-degree turn makes a clip width x height, which cannot share a batch with the rest.
                raise UsageError(
                    f"training frames of {width}x{height} with --crop none: random 90-degree rotations need "
                    "square frames; add --no-rotate or give a square --crop"
                )

    @classmethod
    def tiny_options(cls) -> dict[str, Any]:
        return {
            "clip_frames": 4,
            "crop": 64,
            "perceptual": False,
            "warmup": 3,
            "lr": 1e-3,
            "model": {"features": [8] * 9, "routing": "sample"},
        }

    def build_model(self) -> nn.Module:
        return create_model("dmvfn", **self.options.model)

    def use_data(self, manifest: dict[str, Any]) -> None:
        self.tree_rule = read_clip_rule(manifest)
        rule = self.clip_rule()
        if rule.frames < 3:
            raise DataError(
                f"the data's training clips ({rule.describe()}) are shorter than a triplet; "
                "give --clip-frames 3 or more"
            )

    def clip_rule(self) -> ClipRule:
        """The data's own rule (as the paper trained on it) unless a clip option is given."""
        o = self.options
        if o.clip_frames is None and o.clip_stride is None and self.tree_rule is not None:
            return self.tree_rule
        return ClipRule(
            o.clip_frames or DEFAULT_CLIP_FRAMES, o.clip_stride, origin="--clip-frames/--clip-stride"
        )

    def data(self) -> DataSpec:
        o = self.options
        rule = self.clip_rule()
        augment = AugmentOptions(crop=o.crop, rotate=o.rotate, channel_swap=o.channel_swap, flip=o.flip)
        return DataSpec(
            clip_frames=rule.frames,
            stride=rule.stride,
            random_start=rule.random_start,
            max_frame_step=rule.max_frame_step,
            augment=augment,
        )

    def step_inputs(self, clips: torch.Tensor) -> Iterator[torch.Tensor]:
        batch, frames, channels, height, width = clips.shape
        for k in range(frames - 2):
            # (img0, img1, gt) stacked on channels: the official B x 9 x H x W training input.
            yield clips[:, k : k + 3].reshape(batch, 3 * channels, height, width)

    def setup(self, device: torch.device) -> None:
        self.lap = LaplacianLoss(levels=self.options.lap_levels).to(device)
        if self._uses_perceptual():
            from framepred.losses.perceptual import VGGPerceptualLoss

            self.vgg = VGGPerceptualLoss(self.options.vgg_weights).to(device)

    def _uses_perceptual(self) -> bool:
        return self.options.perceptual and self.options.perceptual_weight > 0

    def terms(self) -> tuple[str, ...]:
        return ("lap", "vgg") if self._uses_perceptual() else ("lap",)

    def loss(self, model: nn.Module, inputs: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        if self.lap is None:
            self.setup(inputs.device)
        outputs = model(inputs, None, True)
        target = inputs[:, 6:9].float()
        last = len(outputs) - 1
        # Losses in float32 whatever precision the network ran in.
        with torch.autocast(device_type=inputs.device.type, enabled=False):
            weights = [self.options.block_decay ** (last - i) for i in range(len(outputs))]
            lap = self.lap.weighted_sum([out.float() for out in outputs], target, weights)
            total = lap
            terms = {"lap": float(lap.detach())}
            if self.vgg is not None:
                vgg = self.vgg(outputs[-1].float(), target)
                total = total + self.options.perceptual_weight * vgg
                terms["vgg"] = float(vgg.detach())
        return total, terms

    def configure_optimizer(self, model: nn.Module) -> torch.optim.Optimizer:
        return torch.optim.AdamW(
            model.parameters(), lr=self._lr_start(), weight_decay=self.options.weight_decay
        )

    def _lr_start(self) -> float:
        o = self.options
        return o.lr / 10 if o.lr_start is None else o.lr_start

    def learning_rate(self, iteration: int, total_iterations: int) -> float:
        o = self.options
        end = o.lr / 10 if o.lr_end is None else o.lr_end
        return warmup_cosine(iteration, total_iterations, self._lr_start(), o.lr, end, o.warmup)
