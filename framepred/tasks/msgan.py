"""The training recipe of Mathieu, Couprie & LeCun (ICLR 2016): multi-scale generator, adversarial
training and the gradient difference loss (spec msgan.md §4).

A training clip is ``history + 1`` frames (a random crop, 32x32 by default, from a `framepred clip`
shard or a frame tree), mapped to [-1, 1]. With Y_k the last frame average-pooled to scale k and P_k
the generator's prediction there, the generator minimises, summed over the scales,

    lam_lp * mean |Y_k - P_k|^p  +  lam_gdl * GDL_alpha(Y_k, P_k)  +  lam_adv * L_adv(D_k(P_k))

and the discriminators minimise L_D(D_k(Y_k), D_k(P_k)) (non-saturating BCE by default, from
``framepred.losses.adversarial``). The adversarial term runs through the frozen discriminators, so
its gradient reaches the generator (the TensorFlow port's never does: spec §4). As in the authors'
code, each network gets its own batch: rounds alternate, the discriminators training on even rounds
and the generator on odd ones (``--same-batch``: both on every round, discriminators first).
``--no-adversarial`` trains the generator alone with Lp + GDL. Plain SGD with constant rates
(generator 0.04, discriminators 0.02) unless an Adam optimizer is chosen.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from framepred.data.augment import AugmentOptions
from framepred.errors import UsageError
from framepred.losses.adversarial import check_kind, discriminator_loss, generator_loss
from framepred.losses.gradient_difference import gradient_difference_loss
from framepred.models.msgan import MSGANConfig, MultiScaleDiscriminator, check_crop, frame_pyramid
from framepred.models.registry import create_model
from framepred.tasks.base import DataSpec, Nets, Phase, Task, ValidationSpec
from framepred.tasks.options import option
from framepred.tasks.registry import register_task

OPTIMIZERS = ("sgd", "adam")
DEFAULT_LR = {  # (generator, discriminators) per optimizer
    "sgd": (0.04, 0.02),  # the paper's rho_G and rho_D (spec §4)
    "adam": (4e-5, 4e-5),  # dyelax's generator rate; no port trains its discriminators with Adam
}


@dataclass
class MSGANTaskOptions:
    # the networks
    history: int = option(4, "Context frames.")
    scales: int = option(4, "Generator and discriminator scales (1-4; 1 = single scale).")
    residual: bool = option(True, "Finer scales correct the upsampled coarser prediction (paper).")
    upsampling: str = option("nearest", "Upsampling of the coarser prediction: nearest (paper), bilinear.")
    d_sees_history: bool = option(True, "Discriminators also read the context frames (paper's code).")
    width: float = option(1.0, "Channel and fully connected size multiplier (1.0 = the paper's).")
    # the data
    crop: int = option(32, "Random square training crop; the discriminators are sized for it.")
    clip_stride: int = option(1, "Frames between clip starts in a frame tree.")
    flip: bool = option(False, "Random horizontal and vertical flips (not in the paper's code).")
    val_crop: int | None = option(128, "Centre crop of validation frames (none: whole frames).")
    # the losses
    adversarial: bool = option(True, "Adversarial training (--no-adversarial: the generator alone).")
    lp: int = option(1, "Exponent p of the Lp loss: 1 (the paper's best models) or 2.")
    alpha: float = option(1.0, "Exponent of the gradient difference loss (at least 1).")
    lam_lp: float = option(1.0, "Weight of the Lp loss.")
    lam_gdl: float = option(1.0, "Weight of the gradient difference loss.")
    lam_adv: float = option(0.05, "Weight of the adversarial loss in the generator's loss.")
    adversarial_loss: str = option("bce", "bce (paper), lsgan or hinge.")
    d_clip: float | None = option(None, "Clip D's probabilities to c..1-c (dyelax: 0.1).")
    # the optimisation
    g_optimizer: str = option("sgd", "Generator optimizer: sgd (paper) or adam.")
    g_lr: float | None = option(None, "Generator learning rate (default: 0.04 sgd, 4e-5 adam).")
    d_optimizer: str = option("sgd", "Discriminator optimizer: sgd (paper) or adam.")
    d_lr: float | None = option(None, "Discriminator learning rate (default: 0.02 sgd, 4e-5 adam).")
    same_batch: bool = option(False, "Train D and G on every batch (default: alternate batches).")


@register_task("msgan")
class MSGANTask(Task):
    Options = MSGANTaskOptions
    primary = "generator"

    # ---- options ---------------------------------------------------------------------------------
    def model_config(self) -> MSGANConfig:
        o = self.options
        return MSGANConfig(
            history=o.history,
            scales=o.scales,
            residual=o.residual,
            upsampling=o.upsampling,
            d_sees_history=o.d_sees_history,
            width=o.width,
        )

    def check_options(self) -> None:
        o = self.options
        config = self.model_config()  # refuses bad network options
        check_crop(config, o.crop)
        if o.clip_stride < 1:
            raise UsageError(f"--clip-stride must be at least 1, got {o.clip_stride}")
        if o.val_crop is not None and o.val_crop < config.size_multiple:
            raise UsageError(f"--val-crop must be at least {config.size_multiple}, got {o.val_crop}")
        if o.lp not in (1, 2):
            raise UsageError(f"--lp must be 1 or 2, got {o.lp}")
        if o.alpha < 1:
            raise UsageError(f"--alpha must be at least 1 (the paper uses 1), got {o.alpha}")
        for name in ("lam_lp", "lam_gdl", "lam_adv"):
            if getattr(o, name) < 0:
                raise UsageError(f"--{name.replace('_', '-')} must not be negative")
        if o.adversarial and o.lam_adv == 0:
            raise UsageError(
                "--lam-adv 0 would train discriminators the generator never listens to; "
                "use --no-adversarial to train the generator alone"
            )
        check_kind(o.adversarial_loss, clip=o.d_clip)
        for which in ("g", "d"):
            name, rate = getattr(o, f"{which}_optimizer"), getattr(o, f"{which}_lr")
            if name not in OPTIMIZERS:
                raise UsageError(f"--{which}-optimizer {name!r}: choose one of {', '.join(OPTIMIZERS)}")
            if rate is not None and rate <= 0:
                raise UsageError(f"--{which}-lr must be positive, got {rate}")

    @classmethod
    def tiny_options(cls) -> dict[str, Any]:
        return {"width": 0.0625, "val_crop": 64, "g_optimizer": "adam", "g_lr": 1e-3, "d_lr": 0.01}

    # ---- networks and data -----------------------------------------------------------------------
    def build_networks(self) -> dict[str, nn.Module]:
        config = self.model_config()
        generator = create_model("msgan", **dataclasses.asdict(config))
        if not self.options.adversarial:
            return {"generator": generator}
        return {"generator": generator, "discriminator": MultiScaleDiscriminator(config, self.options.crop)}

    def data(self) -> DataSpec:
        o = self.options
        augment = AugmentOptions(crop=o.crop, rotate=False, channel_swap=False, flip=o.flip)
        return DataSpec(clip_frames=o.history + 1, stride=o.clip_stride, augment=augment, shards=True)

    def step_inputs(self, clips: torch.Tensor) -> Iterator[torch.Tensor]:
        yield clips * 2.0 - 1.0  # the networks work in [-1, 1], as the original code

    def validation(self) -> ValidationSpec:
        return ValidationSpec(context=self.options.history, horizon=1, crop=self.options.val_crop)

    # ---- losses ----------------------------------------------------------------------------------
    def _discriminator_inputs(self, context: torch.Tensor, frames: list[torch.Tensor]) -> list[torch.Tensor]:
        if not self.options.d_sees_history:
            return frames
        history = frame_pyramid(context.flatten(1, 2), self.options.scales)
        return [torch.cat([h, f], 1) for h, f in zip(history, frames, strict=True)]

    def _targets(self, clips: torch.Tensor) -> list[torch.Tensor]:
        return frame_pyramid(clips[:, -1].float(), self.options.scales)

    def g_loss(self, nets: Nets, clips: torch.Tensor, step: int) -> tuple[torch.Tensor, dict[str, float]]:
        o = self.options
        context = clips[:, :-1]
        predictions = nets.generator(context)  # through forward: DDP syncs gradients only there
        targets = self._targets(clips)
        with torch.autocast(device_type=clips.device.type, enabled=False):
            floats = [p.float() for p in predictions]
            lp = sum((p - t).abs().pow(o.lp).mean() for p, t in zip(floats, targets, strict=True))
            gdl = sum(gradient_difference_loss(p, t, o.alpha) for p, t in zip(floats, targets, strict=True))
            total = o.lam_lp * lp + o.lam_gdl * gdl
        terms = {"lp": float(lp.detach()), "gdl": float(gdl.detach())}
        if o.adversarial:
            scores = nets.discriminator(self._discriminator_inputs(context, predictions))
            adversarial = generator_loss(scores, o.adversarial_loss, o.d_clip)
            total = total + o.lam_adv * adversarial
            terms["adv"] = float(adversarial.detach())
        return total, terms

    def d_loss(self, nets: Nets, clips: torch.Tensor, step: int) -> tuple[torch.Tensor, dict[str, float]]:
        o = self.options
        context = clips[:, :-1]
        with torch.no_grad():
            predictions = nets.generator(context)  # frozen in this phase
        real = nets.discriminator(self._discriminator_inputs(context, self._targets(clips)))
        fake = nets.discriminator(self._discriminator_inputs(context, predictions))
        loss = discriminator_loss(real, fake, o.adversarial_loss, clip=o.d_clip)
        # Mean probability each scale's discriminator gives real and generated frames, for the log.
        terms = {
            "p_real": float(torch.cat([torch.sigmoid(r.detach().float()) for r in real]).mean()),
            "p_fake": float(torch.cat([torch.sigmoid(f.detach().float()) for f in fake]).mean()),
        }
        return loss, terms

    def phases(self) -> tuple[Phase, ...]:
        o = self.options
        if not o.adversarial:
            return (Phase("G", "generator", self.g_loss, terms=("lp", "gdl")),)
        every, g_offset = (1, 0) if o.same_batch else (2, 1)
        return (
            Phase("D", "discriminator", self.d_loss, terms=("p_real", "p_fake"), every=every),
            Phase("G", "generator", self.g_loss, terms=("lp", "gdl", "adv"), every=every, offset=g_offset),
        )

    # ---- optimisation ----------------------------------------------------------------------------
    def _rate(self, which: str) -> float:
        name, rate = getattr(self.options, f"{which}_optimizer"), getattr(self.options, f"{which}_lr")
        return rate if rate is not None else DEFAULT_LR[name][0 if which == "g" else 1]

    def _optimizer(self, which: str, network: nn.Module) -> torch.optim.Optimizer:
        name = getattr(self.options, f"{which}_optimizer")
        if name == "adam":
            return torch.optim.Adam(network.parameters(), lr=self._rate(which))
        return torch.optim.SGD(network.parameters(), lr=self._rate(which))

    def configure_optimizers(self, nets: Nets) -> dict[str, torch.optim.Optimizer]:
        optimizers = {"generator": self._optimizer("g", nets.generator)}
        if self.options.adversarial:
            optimizers["discriminator"] = self._optimizer("d", nets.discriminator)
        return optimizers

    def learning_rates(self, iteration: int, total_iterations: int) -> dict[str, float]:
        rates = {"generator": self._rate("g")}
        if self.options.adversarial:
            rates["discriminator"] = self._rate("d")
        return rates
