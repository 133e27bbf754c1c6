"""The VideoGAN training recipe (spec videogan.md §4-§5): a two-stream generator against a 3D critic.

One round is a discriminator step, then a generator step (the official order), on the same batch:

* discriminator: the non-saturating GAN loss, real clips against generated ones;
* generator: the adversarial loss, plus ``reconstruction_weight`` (10) x L1(frame 0, input image) in
  the conditional model and ``mask_weight`` (0.1) x the mean of the mask (its L1 norm, as the official
  ``nn.L1Penalty(0.1, sizeAverage)``) in the unconditional one.

Adam, learning rate 2e-4 and beta1 0.5 for both networks, constant. The conditional generator sees
frame 0 of each real clip; the unconditional one fresh noise z ~ N(0, I) per round (the same noise
in both steps of a round). ``--d-every``/``--g-every``/``--g-repeat`` make the schedule uneven (the
basketball project trained the generator more often than the critic).

Data: clips of ``frames`` consecutive frames from any frame tree, resized to 64x64 (no crop or flip,
as the official loader); a sequence shorter than a clip repeats its last frame; `framepred clip`
shards of 64x64 clips work too. Values go to [-1, 1] here, as the official code.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from framepred.errors import UsageError
from framepred.losses.adversarial import KINDS, check_kind, discriminator_loss, generator_loss
from framepred.models.registry import create_model
from framepred.models.videogan import NOISE, SIZE, VideoDiscriminator, VideoGANConfig
from framepred.tasks.base import DataSpec, Nets, Phase, Task, ValidationSpec
from framepred.tasks.options import option
from framepred.tasks.registry import register_task

OFFICIAL_RECONSTRUCTION = 10.0
OFFICIAL_MASK = 0.1


@dataclass
class VideoGANTaskOptions:
    condition: str = option(
        "image", "image: the future of one image (the primary model); none: videos from noise.", "--cond"
    )
    frames: int = option(32, "Frames per video, a multiple of 16 (the paper: 32).")
    width: float = option(1.0, "Multiplier of every channel count (1/8 or 1/16 train on a CPU).")
    clip_stride: int | None = option(None, "Frames between clip starts in a sequence (default: --frames).")
    reconstruction_weight: float | None = option(
        None, "Weight of L1(frame 0, input image), conditional model (default 10)."
    )
    future_weight: float = option(
        0.0, "Not in the paper: weight of L1(frames 1.., the real future), conditional model (default 0)."
    )
    input_background: bool = option(
        False, "Not in the paper: the background is the input image plus the stream's correction."
    )
    input_foreground: bool = option(
        False, "Not in the paper: the foreground too is the input plus its stream's correction."
    )
    mask_weight: float | None = option(
        None, "Weight of the mask's L1 norm (default: 0.1 unconditional, 0 conditional)."
    )
    gan_loss: str = option("bce", f"Adversarial loss: {', '.join(KINDS)} (bce: non-saturating).")
    lr: float = option(2e-4, "Adam learning rate of the generator.")
    d_lr: float | None = option(None, "Adam learning rate of the discriminator (default: --lr).")
    beta1: float = option(0.5, "Adam beta1 of both networks.")
    d_every: int = option(1, "Train the discriminator every this many rounds.")
    g_every: int = option(1, "Train the generator every this many rounds.")
    g_repeat: int = option(1, "Generator updates in a round where it trains.")
    val_steps: int | None = option(
        None, "Future frames scored in validation (default: all, --frames minus 1)."
    )


@register_task("videogan")
class VideoGANTask(Task):
    Options = VideoGANTaskOptions
    primary = "generator"

    def __init__(self, options: VideoGANTaskOptions) -> None:
        super().__init__(options)
        self._noise: tuple[int, torch.Tensor] | None = None  # (round, z): one draw per round

    # ---- options ---------------------------------------------------------------------------------
    def check_options(self) -> None:
        o = self.options
        self.model_config = VideoGANConfig(
            condition=o.condition,
            frames=o.frames,
            width=o.width,
            input_background=o.input_background,
            input_foreground=o.input_foreground,
        )
        check_kind(o.gan_loss)
        conditional = o.condition == "image"
        if o.reconstruction_weight is not None and not conditional:
            raise UsageError(
                "--reconstruction-weight applies to the conditional model (--cond image): an "
                "unconditional one has no input image to reconstruct"
            )
        if o.future_weight and not conditional:
            raise UsageError(
                "--future-weight applies to the conditional model (--cond image): an unconditional "
                "one has no real future to compare with"
            )
        for name, value in (
            ("--reconstruction-weight", o.reconstruction_weight),
            ("--future-weight", o.future_weight),
            ("--mask-weight", o.mask_weight),
        ):
            if value is not None and value < 0:
                raise UsageError(f"{name} must be at least 0, got {value}")
        for name, value in (("--lr", o.lr), ("--d-lr", o.d_lr)):
            if value is not None and value <= 0:
                raise UsageError(f"{name} must be positive, got {value}")
        if not 0 <= o.beta1 < 1:
            raise UsageError(f"--beta1 must be in [0, 1), got {o.beta1}")
        for name, value in (("--d-every", o.d_every), ("--g-every", o.g_every), ("--g-repeat", o.g_repeat)):
            if value < 1:
                raise UsageError(f"{name} must be at least 1, got {value}")
        if o.clip_stride is not None and o.clip_stride < 1:
            raise UsageError(f"--clip-stride must be at least 1, got {o.clip_stride}")
        if o.val_steps is not None and not 1 <= o.val_steps <= o.frames - 1:
            raise UsageError(
                f"--val-steps must be between 1 and {o.frames - 1} (--frames - 1), got {o.val_steps}"
            )

    @property
    def conditional(self) -> bool:
        return self.options.condition == "image"

    @property
    def reconstruction_weight(self) -> float:
        weight = self.options.reconstruction_weight
        return (OFFICIAL_RECONSTRUCTION if weight is None else weight) if self.conditional else 0.0

    @property
    def mask_weight(self) -> float:
        weight = self.options.mask_weight
        return (0.0 if self.conditional else OFFICIAL_MASK) if weight is None else weight

    @classmethod
    def tiny_options(cls) -> dict[str, Any]:
        return {"frames": 16, "width": 1 / 16, "val_steps": 8}

    # ---- networks and data -----------------------------------------------------------------------
    def build_networks(self) -> dict[str, nn.Module]:
        generator = create_model("videogan", **dataclasses.asdict(self.model_config))
        return {"generator": generator, "discriminator": VideoDiscriminator(self.model_config)}

    def data(self) -> DataSpec:
        return DataSpec(
            clip_frames=self.options.frames, stride=self.options.clip_stride, pad=True, size=(SIZE, SIZE),
            shards=True,
        )  # fmt: skip

    def check_clip_size(self, height: int, width: int) -> None:
        if (height, width) != (SIZE, SIZE):
            raise UsageError(
                f"the training clips are {width}x{height}; VideoGAN needs {SIZE}x{SIZE}: cut the clips with "
                f"`framepred clip ... --size {SIZE}` (a frame tree is resized on read)"
            )

    def step_inputs(self, clips: torch.Tensor):
        # B x T x 3 x H x W in [0, 1] -> the network's B x 3 x T x H x W in [-1, 1].
        yield clips.transpose(1, 2).mul(2.0).sub(1.0)

    # ---- losses ----------------------------------------------------------------------------------
    def _generator_input(self, videos: torch.Tensor, step: int) -> torch.Tensor:
        if self.conditional:
            return videos[:, :, 0]  # frame 0 of each real clip
        if self._noise is None or self._noise[0] != step:  # the same z in both steps of a round
            self._noise = (step, torch.randn(videos.shape[0], NOISE, device=videos.device))
        return self._noise[1]

    def d_loss(self, nets: Nets, videos: torch.Tensor, step: int) -> tuple[torch.Tensor, dict[str, float]]:
        with torch.no_grad():
            fake = nets.generator(self._generator_input(videos, step)).video
        real_scores = nets.discriminator(videos)
        fake_scores = nets.discriminator(fake)
        loss = discriminator_loss(real_scores, fake_scores, self.options.gan_loss)
        return loss, {
            "real": float(torch.sigmoid(real_scores.detach().float()).mean()),
            "fake": float(torch.sigmoid(fake_scores.detach().float()).mean()),
        }

    def g_loss(self, nets: Nets, videos: torch.Tensor, step: int) -> tuple[torch.Tensor, dict[str, float]]:
        streams = nets.generator(self._generator_input(videos, step))  # through forward: DDP syncs there
        adversarial = generator_loss(nets.discriminator(streams.video), self.options.gan_loss)
        total = adversarial
        terms = {"adv": float(adversarial.detach())}
        with torch.autocast(device_type=videos.device.type, enabled=False):
            if self.reconstruction_weight > 0:
                reconstruction = (streams.video[:, :, 0].float() - videos[:, :, 0].float()).abs().mean()
                total = total + self.reconstruction_weight * reconstruction
                terms["rec"] = float(reconstruction.detach())
            if self.options.future_weight > 0:
                future = (streams.video[:, :, 1:].float() - videos[:, :, 1:].float()).abs().mean()
                total = total + self.options.future_weight * future
                terms["future"] = float(future.detach())
            if self.mask_weight > 0:
                mask = streams.mask.float().mean()  # its L1 norm per element: the mask is non-negative
                total = total + self.mask_weight * mask
                terms["mask"] = float(mask.detach())
        return total, terms

    def phases(self) -> tuple[Phase, ...]:
        o = self.options
        g_terms = ("adv",) + (("rec",) if self.reconstruction_weight > 0 else ())
        g_terms += ("future",) if self.options.future_weight > 0 else ()
        g_terms += ("mask",) if self.mask_weight > 0 else ()
        return (
            Phase("D", "discriminator", self.d_loss, ("real", "fake"), every=o.d_every),
            Phase("G", "generator", self.g_loss, g_terms, every=o.g_every, repeat=o.g_repeat),
        )

    # ---- optimisation ----------------------------------------------------------------------------
    def _d_lr(self) -> float:
        return self.options.lr if self.options.d_lr is None else self.options.d_lr

    def configure_optimizers(self, nets: Nets) -> dict[str, torch.optim.Optimizer]:
        betas = (self.options.beta1, 0.999)
        return {
            "generator": torch.optim.Adam(nets.generator.parameters(), lr=self.options.lr, betas=betas),
            "discriminator": torch.optim.Adam(nets.discriminator.parameters(), lr=self._d_lr(), betas=betas),
        }

    def learning_rates(self, iteration: int, total_iterations: int) -> dict[str, float]:
        return {"generator": self.options.lr, "discriminator": self._d_lr()}

    # ---- validation ------------------------------------------------------------------------------
    def validation(self) -> ValidationSpec | None:
        if not self.conditional:
            return None  # videos from noise have no ground truth to score against
        steps = self.options.val_steps or self.options.frames - 1
        return ValidationSpec(context=1, horizon=steps, size=(SIZE, SIZE))
