"""The fusion recipe (Jing et al. 2021, reconstructed; see docs/fusion.md): three stages, one run directory.

``--data`` is a fusion tree (``framepred prepare fusion TREE -o FUSION_TREE``); its manifest gives the
fusion options the model will use on new frames and names the frame tree that supplies real frames.

* ``unet``: clips of ``context + horizon`` fusion images; the U-Net predicts the last ``horizon`` from
  the first ``context``; loss L1 + ``ssim_weight`` (1 - SSIM) against the real future fusion images
  (the paper's), or ``unet_loss="mse"`` (ours); optionally (ours) plus ``unet_gdl_weight`` times the
  gradient difference loss and plus the same L1/MSE between Gaussian-blurred (``unet_blur_sigma``)
  prediction and target. Validation: in fusion space, beside copy-last of the last fusion image.
* ``translator``: (fusion image, frame) pairs; the discriminator (PatchGAN on the pair) minimises the
  adversarial loss (``framepred.losses.adversarial``), the translator the adversarial loss +
  ``l1_weight`` (lambda = 100, as pix2pix) L1 + ``translator_ssim_weight`` (1 - SSIM). The published
  notebook adds SSIM itself (rewarding dissimilarity) and weights L1 by 10; we do neither. With
  ``translator_predicted`` p > 0 (ours, not the paper's) the items are clips of ``context + horizon``
  instead: the trained U-Net predicts their ``horizon`` fusion images, and each future frame of the
  clip becomes one pair whose fusion image is the predicted one with probability p (else the real
  one), so the translator learns to read the U-Net's softer images it is given at prediction time.
* ``sharpen``: the same pairs; the sharpener learns the frame from the translator's output reduced by
  ``upscale_factor`` (the translator frozen); loss L1.

Validation of the last two stages runs the whole model on held-out frames (16 in, 16 out) beside
copy-last. Adam throughout, constant learning rates (pix2pix: 2e-4, beta1 0.5, for both GAN networks).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from framepred.data.augment import AugmentOptions
from framepred.data.fusion import FusionOptions
from framepred.engine.logging import log_line
from framepred.errors import UsageError
from framepred.losses.adversarial import check_kind, discriminator_loss, generator_loss
from framepred.losses.gradient_difference import gradient_difference_loss
from framepred.losses.pixel import gaussian_blur
from framepred.losses.structural import ssim_similarity
from framepred.models.fusion import PatchDiscriminator, fusion_size_multiple
from framepred.models.interface import roll_forward
from framepred.models.registry import create_model
from framepred.tasks.base import DataSpec, Nets, Phase, Task, ValidationSpec
from framepred.tasks.options import option
from framepred.tasks.registry import register_task

UNET_LOSSES = ("l1-ssim", "mse")


@dataclass
class FusionTaskOptions:
    context: int = option(16, "Fusion images (and frames) the model reads: T_in.")
    horizon: int = option(16, "Fusion images (and frames) it predicts per call: T_out.")
    clip_stride: int = option(1, "Frames between the starts of the U-Net's training clips.")
    crop: int | None = option(None, "Random square training crop (none: whole frames).")
    flip: bool = option(True, "Random horizontal and vertical flips.")
    unet_base: int = option(32, "3D U-Net width of the first level (spec: 32; small: 8).")
    unet_levels: int = option(3, "3D U-Net levels (spatial halvings).")
    translator_base: int = option(64, "Translator width of the first level (the notebook's 64).")
    translator_levels: int = option(5, "Translator levels (the notebook's 5).")
    translator_dropout: float = option(0.5, "Dropout in the translator's first three up blocks.")
    discriminator_base: int = option(32, "PatchGAN width of the first level (the notebook's 32).")
    upscale_factor: int = option(2, "Sharpener factor (0: no sharpener and no sharpen stage).")
    sharpener_base: int = option(64, "Sharpener width (ESPCN's 64).")
    unet_lr: float = option(1e-3, "Adam learning rate of the U-Net.")
    ssim_weight: float = option(1.0, "Weight of (1 - SSIM) beside L1 in the U-Net loss.")
    unet_loss: str = option(
        "l1-ssim", "U-Net loss: l1-ssim (the paper's, L1 + ssim_weight (1 - SSIM)) or mse."
    )
    unet_gdl_weight: float = option(
        0.0,
        "Weight of the gradient difference loss (Mathieu et al., alpha 1) added to the U-Net loss (ours; "
        "0: off). It penalises predicted edges softer than the real ones.",
    )
    unet_residual_blur: float = option(
        0.0,
        "The U-Net adds its output to the last fusion image Gaussian-blurred by this many pixels (ours; "
        "0: to the last fusion image itself), so training starts from that blurred copy.",
    )
    unet_blur_sigma: float = option(
        0.0,
        "Adds the U-Net loss's L1 or MSE between Gaussian-blurred (sigma px) prediction and target (ours; "
        "0: off), so a thin edge predicted a few pixels off still gives a gradient towards its place.",
    )
    translator_lr: float = option(2e-4, "Adam learning rate of the translator (pix2pix).")
    discriminator_lr: float = option(2e-4, "Adam learning rate of the discriminator (pix2pix).")
    l1_weight: float = option(100.0, "lambda: weight of L1 in the translator's loss (pix2pix).")
    translator_ssim_weight: float = option(0.0, "Weight of (1 - SSIM) in the translator's loss.")
    translator_predicted: float = option(
        0.0,
        "Share of the translator's training pairs whose fusion image the trained U-Net predicted (ours; "
        "0: real fusion images only). Above 0 --batch-size counts clips, each giving --horizon pairs.",
    )
    adversarial: str = option("bce", "Adversarial loss: bce, lsgan or hinge.")
    sharpen_lr: float = option(1e-3, "Adam learning rate of the sharpener.")


@register_task("fusion")
class FusionTask(Task):
    Options = FusionTaskOptions
    primary = "model"
    stages = ("unet", "translator", "sharpen")

    def __init__(self, options: FusionTaskOptions) -> None:
        super().__init__(options)
        self.fusion = FusionOptions()  # replaced by the training tree's (check_data)
        self._warned_untrained_unet = False
        self._pairs: tuple[int, tuple[torch.Tensor, torch.Tensor]] | None = None  # (step, pairs): D and G

    # ---- options and data ------------------------------------------------------------------------
    def size_multiple(self) -> int:
        o = self.options
        return fusion_size_multiple(o.unet_levels, o.translator_levels, o.upscale_factor)

    def check_options(self) -> None:
        o = self.options
        if o.context < 1 or o.horizon < 1 or o.clip_stride < 1:
            raise UsageError("--context, --horizon and --clip-stride must be at least 1")
        if o.upscale_factor < 0 or o.upscale_factor == 1:
            raise UsageError(f"--upscale-factor is 0 (no sharpener) or at least 2, got {o.upscale_factor}")
        widths = ("unet_base", "unet_levels", "translator_base", "translator_levels", "discriminator_base")
        for name in widths:
            if getattr(o, name) < 1:
                raise UsageError(f"--{name.replace('_', '-')} must be at least 1")
        if o.sharpener_base < 2:
            raise UsageError("--sharpener-base must be at least 2")
        check_kind(o.adversarial)
        if o.unet_loss not in UNET_LOSSES:
            raise UsageError(f"--unet-loss {o.unet_loss!r}: choose one of {', '.join(UNET_LOSSES)}")
        if not 0.0 <= o.translator_predicted <= 1.0:
            raise UsageError(f"--translator-predicted is a share from 0 to 1, got {o.translator_predicted}")
        if min(o.unet_gdl_weight, o.unet_blur_sigma, o.unet_residual_blur) < 0:
            raise UsageError(
                "--unet-gdl-weight, --unet-blur-sigma and --unet-residual-blur must be at least 0 (0: off)"
            )
        if o.crop is not None:
            self._check_side(o.crop, "--crop")

    def _check_side(self, side: int, what: str) -> None:
        multiple = self.size_multiple()
        if side % multiple or side < max(multiple, 16):
            nearest = max(multiple * -(-16 // multiple), side // multiple * multiple)
            raise UsageError(
                f"{what} {side}: the fusion model needs a multiple of {multiple} (its U-Nets halve the "
                f"frame {self.options.translator_levels} times) of at least 16; e.g. --crop {nearest}"
            )

    def check_clip_size(self, height: int, width: int) -> None:
        if self.options.crop is None:
            for side in (height, width):
                self._check_side(side, f"training frames of {width}x{height} (no --crop): side")

    def check_data(self, root: Path, manifest: dict[str, Any]) -> None:
        from framepred.data.prepare.fusion import fusion_manifest_options

        self.fusion = fusion_manifest_options(root, manifest)

    @classmethod
    def tiny_data(cls, tree: Path, folder: Path) -> Path:
        from framepred.data.prepare.fusion import prepare_fusion

        out = folder / "fusion"
        if not (out / "manifest.json").is_file():
            prepare_fusion(tree, out)
        return out

    @classmethod
    def tiny_options(cls) -> dict[str, Any]:
        return {
            "context": 4,
            "horizon": 4,
            "crop": 64,
            "unet_base": 4,
            "unet_levels": 2,
            "translator_base": 8,
            "translator_levels": 3,
            "discriminator_base": 8,
            "sharpener_base": 8,
        }

    def _augment(self) -> AugmentOptions:
        o = self.options
        return AugmentOptions(crop=o.crop, rotate=False, channel_swap=False, flip=o.flip)

    def data(self) -> DataSpec:
        if self.stage == "sharpen" and self.options.upscale_factor == 0:
            raise UsageError("the sharpen stage needs --upscale-factor 2 or more (0 means no sharpener)")
        o = self.options
        clip = o.context + o.horizon
        if self.stage == "unet":
            return DataSpec(clip_frames=clip, stride=o.clip_stride, augment=self._augment())
        if self.stage == "translator" and o.translator_predicted > 0:
            return DataSpec(
                clip_frames=clip, stride=o.clip_stride, augment=self._augment(), with_source_frames=True
            )
        return DataSpec(clip_frames=1, stride=1, augment=self._augment(), with_source_frames=True)

    # ---- networks --------------------------------------------------------------------------------
    def model_options(self) -> dict[str, Any]:
        o = self.options
        return {
            "context": o.context,
            "horizon": o.horizon,
            "unet_base": o.unet_base,
            "unet_levels": o.unet_levels,
            "unet_residual_blur": o.unet_residual_blur,
            "translator_base": o.translator_base,
            "translator_levels": o.translator_levels,
            "translator_dropout": o.translator_dropout,
            "upscale_factor": o.upscale_factor,
            "sharpener_base": o.sharpener_base,
            "fusion": self.fusion.to_dict(),
        }

    def build_networks(self) -> dict[str, nn.Module]:
        model = create_model("fusion", **self.model_options())
        model.active_stage = self.stage
        networks: dict[str, nn.Module] = {"model": model}
        if self.stage == "translator":
            networks["discriminator"] = PatchDiscriminator(self.options.discriminator_base)
        return networks

    def configure_optimizers(self, nets: Nets) -> dict[str, torch.optim.Optimizer]:
        o, model = self.options, nets.model
        if self.stage == "unet":
            return {"model": torch.optim.Adam(model.unet.parameters(), lr=o.unet_lr)}
        if self.stage == "sharpen":
            return {"model": torch.optim.Adam(model.sharpener.parameters(), lr=o.sharpen_lr)}
        betas = (0.5, 0.999)
        return {
            "model": torch.optim.Adam(model.translator.parameters(), lr=o.translator_lr, betas=betas),
            "discriminator": torch.optim.Adam(
                nets.discriminator.parameters(), lr=o.discriminator_lr, betas=betas
            ),
        }

    def learning_rates(self, iteration: int, total_iterations: int) -> dict[str, float]:
        o = self.options
        if self.stage == "unet":
            return {"model": o.unet_lr}
        if self.stage == "sharpen":
            return {"model": o.sharpen_lr}
        return {"model": o.translator_lr, "discriminator": o.discriminator_lr}

    # ---- losses ----------------------------------------------------------------------------------
    def phases(self) -> tuple[Phase, ...]:
        if self.stage == "unet":
            o = self.options
            extra = ("gdl",) * (o.unet_gdl_weight > 0) + ("blurred",) * (o.unet_blur_sigma > 0)
            return (Phase("unet", "model", self.unet_loss, terms=("l1", "ssim", *extra)),)
        if self.stage == "sharpen":
            return (Phase("sharpen", "model", self.sharpen_loss, terms=("l1",)),)
        return (
            Phase("D", "discriminator", self.discriminator_loss),
            Phase("G", "model", self.translator_loss, terms=("adv", "l1", "ssim")),
        )

    def unet_loss(self, nets: Nets, clips: torch.Tensor, step: int) -> tuple[torch.Tensor, dict[str, float]]:
        o = self.options
        prediction = nets.model(clips[:, : o.context], "unet")
        target = clips[:, o.context :]
        with torch.autocast(device_type=clips.device.type, enabled=False):
            prediction, target = prediction.float().flatten(0, 1), target.float().flatten(0, 1)
            l1 = (prediction - target).abs().mean()
            structure = ssim_similarity(prediction, target)
            if o.unet_loss == "mse":
                total = (prediction - target).square().mean()
            else:
                total = l1 + o.ssim_weight * (1.0 - structure)
            terms = {"l1": l1, "ssim": structure}
            if o.unet_gdl_weight > 0:
                terms["gdl"] = gradient_difference_loss(prediction, target)
                total = total + o.unet_gdl_weight * terms["gdl"]
            if o.unet_blur_sigma > 0:
                # The blur is linear: blur(prediction) - blur(target) in one pass.
                difference = gaussian_blur(prediction - target, o.unet_blur_sigma)
                mse = o.unet_loss == "mse"
                terms["blurred"] = difference.square().mean() if mse else difference.abs().mean()
                total = total + terms["blurred"]
        return total, {name: float(value.detach()) for name, value in terms.items()}

    def translator_pairs(
        self, nets: Nets, items: torch.Tensor, step: int
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(fusion images, frames) the translator stage trains on this step. Items are (fusion, frame)
        pairs, or with ``translator_predicted`` clips of fusion images then their frames: every future
        frame pairs with the U-Net's fusion image (share p, drawn per pair) or the real one. Drawn once
        per step, so the discriminator and the translator see the same pairs."""
        p = self.options.translator_predicted
        if p == 0:
            return items[:, 0], items[:, 1]
        if self._pairs is not None and self._pairs[0] == step:
            return self._pairs[1]
        model = nets.model
        if "unet" not in model.stages_trained():
            raise UsageError(
                "--translator-predicted needs a trained U-Net in the run: train --stage unet first"
            )
        o = self.options
        clip = o.context + o.horizon
        fusion, frames = items[:, :clip], items[:, clip:]
        with torch.no_grad():
            predicted = model.predict_fusion(fusion[:, : o.context]).to(fusion.dtype)
        real = fusion[:, o.context :]
        chosen = torch.rand(real.shape[:2], device=real.device) < p
        mixed = torch.where(chosen[:, :, None, None, None], predicted, real)
        pairs = (mixed.flatten(0, 1), frames[:, o.context :].flatten(0, 1))
        self._pairs = (step, pairs)
        return pairs

    def discriminator_loss(
        self, nets: Nets, pairs: torch.Tensor, step: int
    ) -> tuple[torch.Tensor, dict[str, float]]:
        fusion, frame = self.translator_pairs(nets, pairs, step)
        with torch.no_grad():
            fake = nets.model(fusion, "translator")
        real_scores = nets.discriminator(fusion, frame)
        fake_scores = nets.discriminator(fusion, fake)
        return discriminator_loss(real_scores, fake_scores, self.options.adversarial), {}

    def translator_loss(
        self, nets: Nets, pairs: torch.Tensor, step: int
    ) -> tuple[torch.Tensor, dict[str, float]]:
        o = self.options
        fusion, frame = self.translator_pairs(nets, pairs, step)
        fake = nets.model(fusion, "translator")
        scores = nets.discriminator(fusion, fake)
        with torch.autocast(device_type=pairs.device.type, enabled=False):
            fake = fake.float()
            adversarial = generator_loss(scores, o.adversarial)
            l1 = (fake - frame).abs().mean()
            structure = ssim_similarity(fake, frame)
            total = adversarial + o.l1_weight * l1
            if o.translator_ssim_weight > 0:
                total = total + o.translator_ssim_weight * (1.0 - structure)
        terms = {"adv": adversarial.detach(), "l1": l1.detach(), "ssim": structure.detach()}
        return total, {name: float(value) for name, value in terms.items()}

    def sharpen_loss(
        self, nets: Nets, pairs: torch.Tensor, step: int
    ) -> tuple[torch.Tensor, dict[str, float]]:
        fusion, frame = pairs[:, 0], pairs[:, 1]
        sharpened = nets.model(fusion, "sharpen")
        with torch.autocast(device_type=pairs.device.type, enabled=False):
            l1 = (sharpened.float() - frame).abs().mean()
        return l1, {"l1": float(l1.detach())}

    # ---- validation ------------------------------------------------------------------------------
    def validation(self) -> ValidationSpec:
        o = self.options
        return ValidationSpec(
            context=o.context, horizon=o.horizon, crop=o.crop, on_source_frames=self.stage != "unet"
        )

    def predict(self, model: nn.Module, context: torch.Tensor, horizon: int) -> torch.Tensor:
        """Stage unet: the U-Net's fusion images from fusion context. Later stages: frames from frames,
        through the whole model (the translator on the last observed fusion image while the U-Net is
        still untrained)."""
        if self.stage == "unet":
            return torch.stack(list(roll_forward(model.predict_fusion, context, horizon)), 1)
        call = model.predict_many
        if "unet" not in model.stages_trained():
            if not self._warned_untrained_unet:
                log_line("validation: the U-Net is not trained yet; scoring the translator without motion")
                self._warned_untrained_unet = True
            call = model.baselines()["no-motion"].predict_many
        return torch.stack(list(roll_forward(call, context, horizon)), 1)
