"""The multi-scale generator and discriminators of Mathieu, Couprie & LeCun (ICLR 2016), ``msgan``.

Layer tables and behaviour follow ``../shared/specs/msgan.md`` (§2, §3), which settles what the
authors' Torch code does where the TensorFlow (dyelax) and Chainer ports differ.

Generator: one small fully convolutional network per scale, coarsest first (1/8, 1/4, 1/2, 1/1 of
the frame with four scales). Scale k reads the ``history`` context frames average-pooled to its size
(stacked on the channel axis) and, from the second scale on, the previous scale's prediction
upsampled x2. Every convolution has stride 1 and "same" padding, ReLU after each but the last, no
normalisation. With ``residual`` (the authors' code) the upsampled coarser prediction is also added
to the scale's output before the tanh, so each finer scale predicts a correction; without it (the
dyelax and Chainer ports) each scale predicts the frame directly through its own tanh.

Discriminators: one per scale, "valid" convolutions with ReLU, a 2x2 max-pool, then fully connected
layers with ReLU and one output (a logit; the sigmoid lives in the loss). Their first fully connected
layer depends on the training crop, so they are built for one crop size and never run on whole
frames. With ``d_sees_history`` (the authors' code) a discriminator reads the context frames beside
the real or predicted frame; without it (the ports) only the frame.

Values are in [-1, 1] inside the networks (the original normalisation); ``predict`` takes and
returns [0, 1] frames like every registered model. ``width`` multiplies every channel count and
every fully connected size (1.0 is the paper's network), so that the model trains on a CPU.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from framepred.errors import DataError, UsageError
from framepred.models.registry import register_model

# (output channels, kernel size) of each generator convolution, coarsest scale first (spec §2).
# The last convolution of every scale has 3 output channels, whatever the width.
GENERATOR_LAYERS = (
    ((128, 3), (256, 3), (128, 3), (3, 3)),
    ((128, 5), (256, 3), (128, 3), (3, 5)),
    ((128, 5), (256, 3), (512, 3), (256, 3), (128, 3), (3, 5)),
    ((128, 7), (256, 5), (512, 5), (256, 5), (128, 5), (3, 7)),
)
# Per scale: (output channels, kernel size) of each valid convolution, then the hidden fully
# connected sizes; a last fully connected layer gives one logit (spec §3).
DISCRIMINATOR_LAYERS = (
    (((64, 3),), (512, 256)),
    (((64, 3), (128, 3), (128, 3)), (1024, 512)),
    (((128, 5), (256, 5), (256, 5)), (1024, 512)),
    (((128, 7), (256, 7), (512, 5), (128, 5)), (1024, 512)),
)
MAX_SCALES = len(GENERATOR_LAYERS)
UPSAMPLING_MODES = ("nearest", "bilinear")


@dataclass(frozen=True)
class MSGANConfig:
    history: int = 4  # context frames
    scales: int = 4  # 1..4; fewer scales keep the finest ones (1 = the paper's single-scale model)
    residual: bool = True  # finer scales add a correction to the upsampled coarser prediction
    upsampling: str = "nearest"  # of the coarser prediction: nearest (authors) or bilinear (ports)
    d_sees_history: bool = True  # discriminators read the context frames too (authors; ports: off)
    width: float = 1.0  # multiplier of every channel count and fully connected size

    def __post_init__(self) -> None:
        if self.history < 1:
            raise UsageError(f"msgan history must be at least 1 frame, got {self.history}")
        if not 1 <= self.scales <= MAX_SCALES:
            raise UsageError(f"msgan scales must be between 1 and {MAX_SCALES}, got {self.scales}")
        if self.upsampling not in UPSAMPLING_MODES:
            raise UsageError(
                f"msgan upsampling {self.upsampling!r}: choose one of {', '.join(UPSAMPLING_MODES)}"
            )
        if not self.width > 0:
            raise UsageError(f"msgan width must be positive (1.0 is the paper's), got {self.width}")

    @property
    def size_multiple(self) -> int:
        return 2 ** (self.scales - 1)


def scaled(channels: int, width: float) -> int:
    return max(1, round(channels * width))


def _convolutions(in_channels: int, layers: tuple, width: float, same_padding: bool) -> nn.Sequential:
    """Convolutions with ReLU after each, the last generator layer excepted (it keeps 3 channels)."""
    modules: list[nn.Module] = []
    channels = in_channels
    for index, (out, kernel) in enumerate(layers):
        last = same_padding and index == len(layers) - 1
        out = out if last else scaled(out, width)
        modules.append(nn.Conv2d(channels, out, kernel, padding=kernel // 2 if same_padding else 0))
        if not last:
            modules.append(nn.ReLU())
        channels = out
    return nn.Sequential(*modules)


def _used_tables(table: tuple, scales: int) -> tuple:
    return table[MAX_SCALES - scales :]


def check_crop(config: MSGANConfig, crop: int) -> None:
    """Refuse a training crop the discriminators cannot take (UsageError naming a crop that works)."""

    def fits(side: int) -> bool:
        tables = _used_tables(DISCRIMINATOR_LAYERS, config.scales)
        return side % config.size_multiple == 0 and all(
            side // 2 ** (config.scales - 1 - k) - sum(kernel - 1 for _, kernel in layers) >= 2
            for k, (layers, _) in enumerate(tables)
        )

    if not fits(crop):
        smallest = next(s for s in range(config.size_multiple, 4096, config.size_multiple) if fits(s))
        raise UsageError(
            f"--crop {crop}: msgan's discriminators with {config.scales} scales need a multiple of "
            f"{config.size_multiple} of at least {smallest} (the paper trains on 32)"
        )


def frame_pyramid(frames: torch.Tensor, scales: int) -> list[torch.Tensor]:
    """``B x C x H x W`` average-pooled by 2^(scales-1), ..., 2, 1 (the authors' pyramid), coarsest first."""
    return [F.avg_pool2d(frames, 2**k) if k else frames for k in reversed(range(scales))]


@register_model(
    "msgan",
    MSGANConfig,
    "Mathieu et al. (ICLR 2016): multi-scale generator, next frame from 4",
    small={"width": 0.0625},
)
class MultiScaleGenerator(nn.Module):
    def __init__(self, config: MSGANConfig) -> None:
        super().__init__()
        self.config = config
        self.context_frames = config.history
        self.size_multiple = config.size_multiple
        in_channels = 3 * config.history
        self.scale_networks = nn.ModuleList(
            _convolutions(in_channels + (3 if k else 0), layers, config.width, same_padding=True)
            for k, layers in enumerate(_used_tables(GENERATOR_LAYERS, config.scales))
        )

    def forward(self, context: torch.Tensor) -> list[torch.Tensor]:
        """``B x T x 3 x H x W`` in [-1, 1] -> the prediction at every scale (coarsest first), in [-1, 1].

        H and W must be multiples of ``size_multiple`` (the Predictor pads whole frames)."""
        batch, frames, channels, height, width = context.shape
        if frames != self.context_frames or channels != 3:
            raise DataError(
                f"msgan reads {self.context_frames} RGB context frames, got {frames} of {channels} channels"
            )
        if height % self.size_multiple or width % self.size_multiple:
            raise DataError(
                f"msgan with {self.config.scales} scales needs sides that are multiples of "
                f"{self.size_multiple}, got {height}x{width}; pad the frames (the Predictor does)"
            )
        inputs = frame_pyramid(context.reshape(batch, frames * channels, height, width), self.config.scales)
        predictions: list[torch.Tensor] = []
        for network, scale_input in zip(self.scale_networks, inputs, strict=True):
            if not predictions:
                predictions.append(torch.tanh(network(scale_input)))
                continue
            guess = self._upsample(predictions[-1])
            out = network(torch.cat([scale_input, guess], 1))
            predictions.append(torch.tanh(out + guess if self.config.residual else out))
        return predictions

    def _upsample(self, image: torch.Tensor) -> torch.Tensor:
        if self.config.upsampling == "nearest":
            return F.interpolate(image, scale_factor=2, mode="nearest")
        return F.interpolate(image, scale_factor=2, mode="bilinear", align_corners=False)

    def predict(self, context: torch.Tensor) -> torch.Tensor:
        """``B x T x 3 x H x W`` in [0, 1] -> the next frame ``B x 3 x H x W`` in [0, 1]."""
        return (self(context * 2.0 - 1.0)[-1] + 1.0) / 2.0


class ScaleDiscriminator(nn.Module):
    """One scale's discriminator for ``size`` x ``size`` inputs of ``in_channels`` channels."""

    def __init__(self, in_channels: int, size: int, layers: tuple, hidden: tuple, width: float) -> None:
        super().__init__()
        self.features = _convolutions(in_channels, layers, width, same_padding=False)
        side = size - sum(kernel - 1 for _, kernel in layers)  # check_crop keeps it at 2 or more
        flat = scaled(layers[-1][0], width) * (side // 2) ** 2
        sizes = [flat, *(scaled(h, width) for h in hidden)]
        modules: list[nn.Module] = []
        for a, b in zip(sizes, sizes[1:]):
            modules += [nn.Linear(a, b), nn.ReLU()]
        modules.append(nn.Linear(sizes[-1], 1))
        self.classifier = nn.Sequential(*modules)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        x = F.max_pool2d(self.features(image), 2)
        return self.classifier(x.flatten(1))


class MultiScaleDiscriminator(nn.Module):
    """The discriminators of every scale for training crops of ``crop`` x ``crop`` pixels.

    ``forward`` takes one input per scale (coarsest first: the frame, with the context frames stacked
    before it when ``d_sees_history``) and returns one logit per sample and scale."""

    def __init__(self, config: MSGANConfig, crop: int = 32) -> None:
        super().__init__()
        check_crop(config, crop)
        self.config = config
        self.crop = crop
        in_channels = 3 * (config.history + 1) if config.d_sees_history else 3
        tables = _used_tables(DISCRIMINATOR_LAYERS, config.scales)
        sizes = [crop // 2 ** (config.scales - 1 - k) for k in range(config.scales)]
        self.scale_networks = nn.ModuleList(
            ScaleDiscriminator(in_channels, size, layers, hidden, config.width)
            for size, (layers, hidden) in zip(sizes, tables, strict=True)
        )

    def forward(self, images: list[torch.Tensor]) -> list[torch.Tensor]:
        return [network(image) for network, image in zip(self.scale_networks, images, strict=True)]
