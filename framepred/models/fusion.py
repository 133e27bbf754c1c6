"""The fusion-image predictor of Jing et al. (Applied Intelligence 2021), reconstructed.

The paper's repository holds no code for the method (../shared/specs/fusion.md §1); this follows its
abstract and notation (§2) and the layer widths of the pix2pix notebook in that repository. Three
stages, trained one after another (``framepred train fusion --stage ...``), in one registered model:

* ``unet``: a U-Net of 3D convolutions reads ``context`` fusion images (edges + segmentation, see
  ``data/fusion.py``) and predicts the next ``horizon``. Spatial down-/up-sampling only (time is kept),
  two 3x3x3 conv + batch norm + ReLU per block, skip connections; a last 2D convolution over the
  features of all input times gives every future image (ours), added to the last observed image (ours;
  that layer starts at zero, so training starts from repeating the last fusion image).
* ``translator``: a pix2pix-style U-Net generator turns one fusion image into a frame (the notebook's
  widths: 3x3 stride-2 convolutions 64-128-256-512-512 down, transposed back up with skips, dropout 0.5
  in the first three up blocks while training), judged by a PatchGAN discriminator on (fusion, frame).
* ``sharpen`` (optional, ``upscale_factor`` >= 2): an ESPCN-style network (Shi et al. 2016: 5x5 and 3x3
  convolutions, tanh, sub-pixel shuffle by ``upscale_factor``) that restores the full-size frame from
  the translator's output reduced by that factor, added to a bicubic upsampling (ours; its last layer
  starts at zero, so training starts from the bicubic upsampling).

``predict_many`` computes the fusion images of its input frames itself, with the options the fusion
tree was made with (``fusion`` in the config), then runs the U-Net, the translator and, when it was
trained, the sharpener. The buffer ``trained`` records which stages have been trained (set by a forward
pass in training mode, as batch norm counts its batches), so a checkpoint says what it holds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from framepred.data.fusion import FusionOptions, fusion_image
from framepred.errors import CheckpointError, UsageError
from framepred.losses.pixel import gaussian_blur
from framepred.models.registry import register_model

STAGES = ("unet", "translator", "sharpen")


# ---- stage 1: the 3D U-Net on fusion images ----------------------------------------------------------
def _block3d(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv3d(cin, cout, 3, padding=1, bias=False),
        nn.BatchNorm3d(cout),
        nn.ReLU(inplace=True),
        nn.Conv3d(cout, cout, 3, padding=1, bias=False),
        nn.BatchNorm3d(cout),
        nn.ReLU(inplace=True),
    )


class FusionUNet3D(nn.Module):
    """``B x T_in x 3 x H x W`` fusion images -> the next ``B x T_out x 3 x H x W`` (not clamped)."""

    def __init__(
        self, context: int, horizon: int, base: int, levels: int, residual_blur: float = 0.0
    ) -> None:
        super().__init__()
        self.horizon = horizon
        # What the output is added to: the last fusion image, or (ours, > 0) it Gaussian-blurred by this
        # many pixels, a prediction that already scores as well as the trained U-Net did on the demo.
        self.residual_blur = residual_blur
        widths = [base * 2**i for i in range(levels)]
        self.encoders = nn.ModuleList()
        channels = 3
        for width in widths:
            self.encoders.append(_block3d(channels, width))
            channels = width
        self.bottleneck = _block3d(channels, 2 * channels)
        channels *= 2
        self.ups, self.decoders = nn.ModuleList(), nn.ModuleList()
        for width in reversed(widths):
            self.ups.append(nn.ConvTranspose3d(channels, width, (1, 2, 2), stride=(1, 2, 2)))
            self.decoders.append(_block3d(2 * width, width))
            channels = width
        self.head = nn.Conv2d(base * context, 3 * horizon, 3, padding=1)
        # Zero at first: training starts from repeating the last fusion image and learns the change.
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    def forward(self, fusion: torch.Tensor) -> torch.Tensor:
        x = fusion.transpose(1, 2)  # B x 3 x T x H x W
        skips = []
        for encoder in self.encoders:
            x = encoder(x)
            skips.append(x)
            x = F.max_pool3d(x, (1, 2, 2))
        x = self.bottleneck(x)
        for up, decoder, skip in zip(self.ups, self.decoders, reversed(skips), strict=True):
            x = decoder(torch.cat([up(x), skip], 1))
        batch, channels, time, height, width = x.shape
        delta = self.head(x.reshape(batch, channels * time, height, width))
        last = fusion[:, -1]
        if self.residual_blur > 0:
            last = gaussian_blur(last, self.residual_blur)
        return last[:, None] + delta.view(batch, self.horizon, 3, height, width)


# ---- stage 2: the image-to-video translator ----------------------------------------------------------
class Translator(nn.Module):
    """pix2pix-style U-Net: one fusion image ``B x 3 x H x W`` in [0, 1] -> a frame in [0, 1]."""

    def __init__(self, base: int, levels: int, dropout: float) -> None:
        super().__init__()
        widths = [base * min(2**i, 8) for i in range(levels)]
        self.downs = nn.ModuleList()
        channels = 3
        for i, width in enumerate(widths):
            layers: list[nn.Module] = [nn.Conv2d(channels, width, 3, stride=2, padding=1, bias=i == 0)]
            if i > 0:
                layers.append(nn.BatchNorm2d(width))
            layers.append(nn.LeakyReLU(0.2, inplace=True))
            self.downs.append(nn.Sequential(*layers))
            channels = width
        self.ups = nn.ModuleList()
        for j, width in enumerate(reversed(widths[:-1])):
            layers = [
                nn.ConvTranspose2d(channels, width, 3, stride=2, padding=1, output_padding=1, bias=False),
                nn.BatchNorm2d(width),
            ]
            if j < 3 and dropout > 0:
                layers.append(nn.Dropout(dropout))
            layers.append(nn.ReLU(inplace=True))
            self.ups.append(nn.Sequential(*layers))
            channels = 2 * width
        self.last = nn.ConvTranspose2d(channels, 3, 3, stride=2, padding=1, output_padding=1)

    def forward(self, fusion: torch.Tensor) -> torch.Tensor:
        x = fusion * 2.0 - 1.0  # the notebook's [-1, 1] scaling
        skips = []
        for down in self.downs:
            x = down(x)
            skips.append(x)
        for up, skip in zip(self.ups, reversed(skips[:-1]), strict=True):
            x = torch.cat([up(x), skip], 1)
        return (torch.tanh(self.last(x)) + 1.0) / 2.0


class PatchDiscriminator(nn.Module):
    """The notebook's PatchGAN: (fusion, frame) stacked -> patch logits. Stride-2 3x3 convolutions
    ``base``, 2·base, 4·base (no norm on the first), a 3x3 convolution of 8·base, then one logit each."""

    def __init__(self, base: int = 32) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        channels = 6
        for i, width in enumerate((base, 2 * base, 4 * base)):
            layers.append(nn.Conv2d(channels, width, 3, stride=2, padding=1, bias=i == 0))
            if i > 0:
                layers.append(nn.BatchNorm2d(width))
            layers.append(nn.LeakyReLU(0.2, inplace=True))
            channels = width
        layers += [
            nn.Conv2d(channels, 8 * base, 3, padding=1, bias=False),
            nn.BatchNorm2d(8 * base),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(8 * base, 1, 3, padding=1),
        ]
        self.net = nn.Sequential(*layers)

    def forward(self, fusion: torch.Tensor, frame: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([fusion * 2.0 - 1.0, frame * 2.0 - 1.0], 1))


# ---- stage 3: the sharpener ------------------------------------------------------------------------
class Sharpener(nn.Module):
    """ESPCN-style: a frame reduced by ``factor`` -> full size, added to its bicubic upsampling."""

    def __init__(self, factor: int, base: int) -> None:
        super().__init__()
        self.factor = factor
        self.net = nn.Sequential(
            nn.Conv2d(3, base, 5, padding=2),
            nn.Tanh(),
            nn.Conv2d(base, base // 2, 3, padding=1),
            nn.Tanh(),
            nn.Conv2d(base // 2, 3 * factor**2, 3, padding=1),
            nn.PixelShuffle(factor),
        )
        nn.init.zeros_(self.net[4].weight)  # starts as the bicubic upsampling, learns the detail
        nn.init.zeros_(self.net[4].bias)

    def forward(self, small: torch.Tensor) -> torch.Tensor:
        upsampled = F.interpolate(small, scale_factor=self.factor, mode="bicubic", align_corners=False)
        return upsampled + self.net(small)


# ---- the registered model -------------------------------------------------------------------------
@dataclass(frozen=True)
class FusionConfig:
    context: int = 16  # fusion images the U-Net reads (T_in)
    horizon: int = 16  # fusion images it predicts per call (T_out)
    unet_base: int = 32
    unet_levels: int = 3
    unet_residual_blur: float = 0.0  # 0: the U-Net adds its output to the last fusion image, else blurred
    translator_base: int = 64
    translator_levels: int = 5
    translator_dropout: float = 0.5
    upscale_factor: int = 2  # 0: no sharpener; r >= 2: a sharpener restoring x r
    sharpener_base: int = 64
    fusion: dict[str, Any] = field(default_factory=dict)  # how the fusion images are made (FusionOptions)


def fusion_size_multiple(unet_levels: int, translator_levels: int, upscale_factor: int) -> int:
    """What frame sides must be a multiple of: both U-Nets halve them, the sharpener divides them."""
    return math.lcm(2**unet_levels, 2**translator_levels, max(upscale_factor, 1))


SMALL = {
    "context": 4,
    "horizon": 4,
    "unet_base": 4,
    "unet_levels": 2,
    "translator_base": 8,
    "translator_levels": 3,
    "upscale_factor": 2,
    "sharpener_base": 8,
}


DESCRIPTION = "Jing et al. 2021: 3D U-Net on fusion images + image-to-video translator"


@register_model("fusion", FusionConfig, DESCRIPTION, small=SMALL)
class FusionPredictor(nn.Module):
    def __init__(self, config: FusionConfig) -> None:
        super().__init__()
        self.config = config
        self.fusion_options = FusionOptions.from_dict(dict(config.fusion), "fusion model config")
        if config.context < 1 or config.horizon < 1:
            raise UsageError("the fusion model needs context and horizon of at least 1")
        if config.upscale_factor == 1 or config.upscale_factor < 0:
            raise UsageError(f"upscale_factor is 0 (no sharpener) or at least 2, got {config.upscale_factor}")
        self.context_frames = config.context
        self.frames_per_call = config.horizon
        factor = config.upscale_factor
        self.size_multiple = fusion_size_multiple(config.unet_levels, config.translator_levels, factor)
        self.unet = FusionUNet3D(
            config.context, config.horizon, config.unet_base, config.unet_levels, config.unet_residual_blur
        )
        self.translator = Translator(
            config.translator_base, config.translator_levels, config.translator_dropout
        )
        self.sharpener = Sharpener(factor, config.sharpener_base) if factor else None
        self.register_buffer("trained", torch.zeros(len(STAGES), dtype=torch.uint8))
        self.active_stage: str | None = None  # the stage being trained; the others stay in eval mode

    # ---- training ---------------------------------------------------------------------------------
    def stage_module(self, stage: str) -> nn.Module:
        if stage == "sharpen" and self.sharpener is None:
            raise UsageError("this fusion model has no sharpener; give it an upscale factor of 2 or more")
        return {"unet": self.unet, "translator": self.translator, "sharpen": self.sharpener}[stage]

    def train(self, mode: bool = True) -> FusionPredictor:
        """Train mode for the active stage only: frozen stages keep their batch-norm statistics and
        run without dropout (as detectors freeze the norm layers of a pretrained backbone)."""
        super().train(mode)
        if mode and self.active_stage is not None:
            for stage in STAGES:
                if stage != self.active_stage and (stage != "sharpen" or self.sharpener is not None):
                    self.stage_module(stage).eval()
        return self

    def forward(self, inputs: torch.Tensor, stage: str) -> torch.Tensor:
        """What stage ``stage`` trains on: ``unet``: fusion context ``B x T_in x 3 x H x W`` -> future
        fusion; ``translator``: fusion ``B x 3 x H x W`` -> frame; ``sharpen``: fusion -> the sharpened
        translation (the translator frozen). Outputs are not clamped."""
        module = self.stage_module(stage)
        if module.training:
            self.trained[STAGES.index(stage)] = 1
        if stage == "sharpen":
            with torch.no_grad():
                frames = self.translator(inputs)
            return self.sharpener(F.avg_pool2d(frames, self.sharpener.factor))
        return module(inputs)

    def stages_trained(self) -> list[str]:
        return [stage for stage, flag in zip(STAGES, self.trained.tolist(), strict=True) if flag]

    # ---- prediction -------------------------------------------------------------------------------
    def fusion_images(self, frames: torch.Tensor) -> torch.Tensor:
        """The fusion images of ``B x T x 3 x H x W`` frames in [0, 1] (computed on the CPU, as
        ``framepred prepare fusion`` does from 8-bit frames)."""
        pixels = frames.detach().float().mul(255.0).round().clamp(0, 255).to(torch.uint8)
        pixels = pixels.permute(0, 1, 3, 4, 2).cpu().numpy()
        fused = np.stack([[fusion_image(frame, self.fusion_options) for frame in clip] for clip in pixels])
        tensor = torch.from_numpy(fused).to(frames.device).permute(0, 1, 4, 2, 3)
        return tensor.float().div(255.0)

    def predict_fusion(self, fusion: torch.Tensor) -> torch.Tensor:
        """The U-Net's next ``horizon`` fusion images, clamped to [0, 1]."""
        return self.unet(fusion).clamp(0.0, 1.0)

    def translate(self, fusion: torch.Tensor, sharpen: bool = True) -> torch.Tensor:
        """Frames of ``B x K x 3 x H x W`` fusion images: the translator, then the sharpener when trained
        (and ``sharpen``)."""
        batch, count = fusion.shape[:2]
        frames = self.translator(fusion.flatten(0, 1))
        if sharpen and self.sharpener is not None and self.trained[STAGES.index("sharpen")]:
            frames = self.sharpener(F.avg_pool2d(frames, self.sharpener.factor))
        return frames.clamp(0.0, 1.0).view(batch, count, *frames.shape[1:])

    def check_stages(self, needed: tuple[str, ...] = ("unet", "translator")) -> None:
        """Refuse weights that hold some stages but not every ``needed`` one (a fresh model passes)."""
        trained = self.stages_trained()
        missing = [stage for stage in needed if stage not in trained]
        if trained and missing:
            raise CheckpointError(
                f"this fusion model holds the {', '.join(trained)} stage(s) but not the {missing[0]} stage; "
                f"train it into the same run: framepred train fusion --stage {missing[0]} --run-dir RUN"
            )

    def predict_many(self, context: torch.Tensor, sharpen: bool = True) -> torch.Tensor:
        """``B x T_in x 3 x H x W`` frames -> the next ``B x T_out x 3 x H x W`` frames."""
        self.check_stages()
        return self.translate(self.predict_fusion(self.fusion_images(context)), sharpen)

    def predict(self, context: torch.Tensor) -> torch.Tensor:
        return self.predict_many(context)[:, 0]

    def streams(self, context: torch.Tensor) -> dict[str, torch.Tensor]:
        """What ``rollout --compare`` shows beside the frames: the last observed fusion image and the
        predicted fusion images, ``B x T_out x 3 x H x W`` each."""
        fusion = self.fusion_images(context)
        observed = fusion[:, -1:].expand(-1, self.frames_per_call, -1, -1, -1)
        return {"fusion input": observed, "predicted fusion": self.predict_fusion(fusion)}

    def export_problem(self) -> str | None:
        """Why ``framepred export`` cannot trace this model (asked before exporting)."""
        return (
            "its fusion images (OpenCV Canny edges, scikit-image superpixels) are computed outside "
            "torch, so no ONNX or TorchScript graph holds the whole model"
        )

    def baselines(self) -> dict[str, nn.Module]:
        """Baselines made of this model's own weights, for ``evaluate --baseline NAME``: ``no-motion``
        (below) and ``no-sharpener`` (this model with its sharpener skipped)."""
        return {"no-motion": Variant(self, "no-motion"), "no-sharpener": Variant(self, "no-sharpener")}


class Variant(nn.Module):
    """The model with a part left out. ``no-motion``: the paper's comparison with pix2pixHD, with our
    translator: the last observed fusion image, translated (and sharpened), for every future step, so
    what the U-Net adds shows. ``no-sharpener``: the whole model without its sharpener."""

    def __init__(self, model: FusionPredictor, kind: str) -> None:
        super().__init__()
        self.model, self.kind = model, kind
        self.context_frames = model.context_frames
        self.frames_per_call = model.frames_per_call
        self.size_multiple = model.size_multiple

    def predict_many(self, context: torch.Tensor) -> torch.Tensor:
        if self.kind == "no-sharpener":
            return self.model.predict_many(context, sharpen=False)
        self.model.check_stages(needed=("translator",))
        last = self.model.fusion_images(context[:, -1:])
        return self.model.translate(last).expand(-1, self.frames_per_call, -1, -1, -1)

    def predict(self, context: torch.Tensor) -> torch.Tensor:
        return self.predict_many(context)[:, 0]
