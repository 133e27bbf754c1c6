"""VideoGAN: the two-stream video generator of Vondrick, Pirsiavash & Torralba (NeurIPS 2016).

A re-statement in PyTorch of the networks of the official Torch code (see ``../shared/specs/videogan.md``
§2-§5). A video is ``3 x T x 64 x 64`` (T = 32 in the paper) in [-1, 1]. The generator has two streams:

* a background stream of 2D transposed convolutions makes one static image ``b`` (tanh);
* a foreground stream of 3D transposed convolutions makes a video ``f`` (tanh) and a per-pixel,
  per-frame mask ``m`` (sigmoid);

and the video is ``m * f + (1 - m) * b``, ``b`` repeated over time and ``m`` over colour. Both variants:

* ``condition="none"``: both streams start from noise ``z`` (100 numbers, N(0, I));
* ``condition="image"`` (the registered default, "the future from one image"): a 2D encoder turns the
  64x64 input image into a 1024 x 4 x 4 code that both streams start from; frame 0 of the output is
  trained to reproduce the input (reconstruction loss in the recipe), frames 1..T-1 are its future.

``VideoDiscriminator`` is the spatio-temporal 3D-convolution critic (the conditional one is twice as
wide). It outputs one logit per video where the official code has two classes with a cross-entropy;
the two are the same loss (the difference of the two logits is the one logit).

``frames`` must be a multiple of 16: the foreground stream doubles time four times, so its first
transposed kernel spans T/16 frames, and the discriminator's last kernel T/16 (spec §8). ``width``
multiplies every channel count (1/8 or 1/16 train on a CPU).

The framepred interface: ``context_frames = 1``; ``predict_many(context)`` returns the
``frames - 1`` generated future frames (frame 0, the reconstruction of the input, is not a
prediction and is left out); any input size works: the image is resized to 64x64 and the frames
back to the input's size. ``streams(context)`` and, for the unconditional model, ``sample(count,
generator)`` return every stream by name, for ``framepred predict --compare`` and ``--samples``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from framepred.errors import UsageError
from framepred.models.registry import register_model

SIZE = 64  # frame side, fixed by the architecture (4 x 4 doubled four times)
NOISE = 100  # length of z in the unconditional model
FRAMES_MULTIPLE = 16  # the foreground stream doubles time four times
CONDITIONS = ("image", "none")
CLOSED_MASK_LOGIT = -5.0  # --input-background: the mask starts at sigmoid(-5) = 0.007
HALF_MASK_LOGIT = 0.0  # --input-foreground: both streams start at the input, the mask at 0.5


@dataclass(frozen=True)
class VideoGANConfig:
    condition: str = "image"  # image: the future of one image; none: videos from noise
    frames: int = 32  # frames per generated video, a multiple of 16
    width: float = 1.0  # multiplier of every channel count
    # Not in the paper: the conditional background is the input image plus the background stream's
    # correction, (x + b).clamp(-1, 1); the correction starts at exactly 0 and the mask nearly closed
    # (sigmoid(-5) = 0.007), so the model starts from copy-last (see docs/videogan.md).
    input_background: bool = False
    # Not in the paper either: the foreground too is the input image plus the foreground stream's
    # (time-varying) correction, so the mask can keep early frames at the input and show the
    # background correction only where and when the scene has changed. Needs input_background.
    input_foreground: bool = False

    def __post_init__(self) -> None:
        if self.condition not in CONDITIONS:
            raise UsageError(
                f"unknown VideoGAN condition {self.condition!r}: choose image (the future of one image) "
                "or none (videos from noise)"
            )
        if self.frames < FRAMES_MULTIPLE or self.frames % FRAMES_MULTIPLE:
            raise UsageError(
                f"VideoGAN frames must be a multiple of {FRAMES_MULTIPLE} (16, 32, ...), got {self.frames}"
            )
        if not 0 < self.width <= 4:
            raise UsageError(f"VideoGAN width must be in (0, 4], got {self.width}")
        if self.input_background and self.condition != "image":
            raise UsageError(
                "--input-background needs the conditional model (--cond image): an unconditional "
                "one has no input image to start its background from"
            )
        if self.input_foreground and not self.input_background:
            raise UsageError(
                "--input-foreground needs --input-background: both streams then start at the input "
                "image; add --input-background"
            )


def _channels(base: int, width: float) -> int:
    return max(1, round(base * width))


def init_weights(module: nn.Module) -> None:
    """The official initialisation: convolution weights N(0, 0.01) and biases 0; batch-norm scales
    N(1, 0.02) and shifts 0."""
    for layer in module.modules():
        if isinstance(layer, nn.modules.conv._ConvNd):
            nn.init.normal_(layer.weight, 0.0, 0.01)
            nn.init.zeros_(layer.bias)
        elif isinstance(layer, nn.modules.batchnorm._BatchNorm):
            nn.init.normal_(layer.weight, 1.0, 0.02)
            nn.init.zeros_(layer.bias)


def compose(foreground: torch.Tensor, mask: torch.Tensor, background: torch.Tensor) -> torch.Tensor:
    """``m * f + (1 - m) * b``: foreground ``B x 3 x T x H x W``, mask ``B x 1 x T x H x W`` in [0, 1],
    background ``B x 3 x H x W`` (the same image at every time step)."""
    return mask * foreground + (1.0 - mask) * background[:, :, None]


class Streams(NamedTuple):
    """What the generator makes, in the network's layout and range ([-1, 1]; the mask in [0, 1])."""

    video: torch.Tensor  # B x 3 x T x H x W
    foreground: torch.Tensor  # B x 3 x T x H x W
    mask: torch.Tensor  # B x 1 x T x H x W
    background: torch.Tensor  # B x 3 x H x W


def _up2d(cin: int, cout: int) -> list[nn.Module]:
    return [nn.ConvTranspose2d(cin, cout, 4, 2, 1), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]


def _up3d(cin: int, cout: int) -> list[nn.Module]:
    return [nn.ConvTranspose3d(cin, cout, 4, 2, 1), nn.BatchNorm3d(cout), nn.ReLU(inplace=True)]


class ImageEncoder(nn.Module):
    """3 x 64 x 64 -> C x 4 x 4 with four 4x4 stride-2 convolutions (ReLU; batch norm after the
    2nd to 4th, eps 1e-3 as the official code)."""

    def __init__(self, channels: tuple[int, int, int, int]) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(3, channels[0], 4, 2, 1), nn.ReLU(inplace=True)]
        for cin, cout in zip(channels, channels[1:]):
            layers += [nn.Conv2d(cin, cout, 4, 2, 1), nn.BatchNorm2d(cout, eps=1e-3), nn.ReLU(inplace=True)]
        self.layers = nn.Sequential(*layers)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.layers(image)


class BackgroundStream(nn.Module):
    """The static image: an optional stem (z: 1x1 -> 4x4), stride-2 transposed 2D convolutions with
    batch norm and ReLU, and a tanh head at 64x64."""

    def __init__(self, cin: int, channels: tuple[int, ...], stem: bool) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        if stem:
            layers += [nn.ConvTranspose2d(cin, channels[0], 4), nn.BatchNorm2d(channels[0]), nn.ReLU(True)]
        else:
            layers += _up2d(cin, channels[0])
        for a, b in zip(channels, channels[1:]):
            layers += _up2d(a, b)
        layers += [nn.ConvTranspose2d(channels[-1], 3, 4, 2, 1), nn.Tanh()]
        self.layers = nn.Sequential(*layers)

    @property
    def head(self) -> nn.ConvTranspose2d:
        """The last transposed convolution, before the tanh."""
        return self.layers[-2]

    def forward(self, code: torch.Tensor) -> torch.Tensor:
        return self.layers(code)


class ForegroundStream(nn.Module):
    """The moving part: a stem with kernel ``stem_kernel`` (T/16 frames), three stride-2 transposed 3D
    convolutions with batch norm and ReLU, then two stride-2 heads: the video (tanh) and the mask
    (sigmoid)."""

    def __init__(self, cin: int, channels: tuple[int, int, int, int], stem_kernel: tuple[int, int, int]):
        super().__init__()
        layers: list[nn.Module] = [
            nn.ConvTranspose3d(cin, channels[0], stem_kernel),
            nn.BatchNorm3d(channels[0]),
            nn.ReLU(inplace=True),
        ]
        for a, b in zip(channels, channels[1:]):
            layers += _up3d(a, b)
        self.body = nn.Sequential(*layers)
        self.video = nn.ConvTranspose3d(channels[-1], 3, 4, 2, 1)
        self.mask = nn.ConvTranspose3d(channels[-1], 1, 4, 2, 1)

    def forward(self, code: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        features = self.body(code)
        return torch.tanh(self.video(features)), torch.sigmoid(self.mask(features))


@register_model(
    "videogan",
    VideoGANConfig,
    "two-stream VideoGAN (Vondrick et al. 2016): 31 future frames from one image, or videos from noise",
    small={"width": 1 / 16, "frames": 16},
)
class VideoGAN(nn.Module):
    """The generator. ``forward(x)``: an image ``B x 3 x 64 x 64`` (condition image) or noise
    ``B x 100`` (condition none), in [-1, 1] -> :class:`Streams`."""

    context_frames = 1
    size_multiple = 1  # any size: the model resizes to 64x64 and back

    def __init__(self, config: VideoGANConfig) -> None:
        super().__init__()
        self.config = config
        c = lambda base: _channels(base, config.width)  # noqa: E731
        depth = config.frames // FRAMES_MULTIPLE
        if config.condition == "image":
            code = c(1024)
            self.encoder: nn.Module | None = ImageEncoder((c(128), c(256), c(512), code))
            self.background = BackgroundStream(code, (c(512), c(256), c(128)), stem=False)
            self.foreground = ForegroundStream(code, (code, c(512), c(256), c(128)), (depth, 1, 1))
        else:
            self.encoder = None
            self.background = BackgroundStream(NOISE, (c(512), c(256), c(128), c(64)), stem=True)
            self.foreground = ForegroundStream(NOISE, (c(512), c(256), c(128), c(64)), (depth, 4, 4))
        init_weights(self)
        if config.input_background:
            # Start at copy-last: with the official N(0, 0.01) head the correction alone cost 0.5 dB
            # at t+1 and the 0.05 mask of sigmoid(-3) mixed 5 % of the foreground into every frame.
            nn.init.zeros_(self.background.head.weight)
            nn.init.constant_(self.foreground.mask.bias, CLOSED_MASK_LOGIT)
        if config.input_foreground:
            # The foreground starts at the input too, so an open mask costs nothing at the start and
            # the mask gets a gradient from both streams' corrections.
            nn.init.zeros_(self.foreground.video.weight)
            nn.init.constant_(self.foreground.mask.bias, HALF_MASK_LOGIT)

    @property
    def conditional(self) -> bool:
        return self.encoder is not None

    @property
    def frames_per_call(self) -> int:
        return self.config.frames - 1

    def forward(self, x: torch.Tensor) -> Streams:
        if self.encoder is not None:
            code = self.encoder(x)  # B x C x 4 x 4
            background = self.background(code)
            if self.config.input_background:
                background = (x + background).clamp(-1.0, 1.0)
            foreground, mask = self.foreground(code[:, :, None])  # as B x C x 1 x 4 x 4
            if self.config.input_foreground:
                foreground = (x[:, :, None] + foreground).clamp(-1.0, 1.0)
        else:
            background = self.background(x[:, :, None, None])
            foreground, mask = self.foreground(x[:, :, None, None, None])
        return Streams(compose(foreground, mask, background), foreground, mask, background)

    # ---- the framepred interface (frames B x T x 3 x H x W in [0, 1]) ------------------------------
    def _refuse_unconditional(self) -> None:
        if not self.conditional:
            raise UsageError(
                "this VideoGAN is unconditional: it generates videos from noise, not from an image; "
                "sample it with `framepred predict --weights FILE --samples N -o DIR`"
            )

    def streams(self, context: torch.Tensor) -> dict[str, torch.Tensor]:
        """Every stream for the newest context frame, each ``B x T x 3 x H x W`` in [0, 1] at the
        input's size: the video (frame 0 is the reconstruction of the input), the background (the
        same at every step), the foreground and the mask (grey)."""
        self._refuse_unconditional()
        image = context[:, -1]
        height, width = image.shape[-2:]
        streams = self(_resize(image, (SIZE, SIZE)) * 2.0 - 1.0)
        return _as_frames(streams, (height, width))

    def predict_many(self, context: torch.Tensor) -> torch.Tensor:
        """The ``frames - 1`` future frames of the newest context frame: ``B x (T-1) x 3 x H x W``."""
        self._refuse_unconditional()
        image = context[:, -1]
        height, width = image.shape[-2:]
        video = self(_resize(image, (SIZE, SIZE)) * 2.0 - 1.0).video[:, :, 1:]
        return _video_frames(video, (height, width))

    def predict(self, context: torch.Tensor) -> torch.Tensor:
        return self.predict_many(context)[:, 0]

    def sample(self, count: int, generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        """``count`` videos from noise (unconditional model): every stream, as :meth:`streams`, at 64x64.

        The noise is drawn on the CPU from ``generator``, so a seed gives the same videos on any device."""
        if self.conditional:
            raise UsageError(
                "this VideoGAN is conditional: it generates the future of an image; give it one "
                "(`framepred predict IMAGE -o future.gif --weights FILE`) instead of --samples"
            )
        noise = torch.randn(count, NOISE, generator=generator)
        device = next(self.parameters()).device
        return _as_frames(self(noise.to(device)), (SIZE, SIZE))


def _resize(images: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """``N x C x H x W`` to ``size`` (height, width): bilinear, antialiased when shrinking; exact
    at the same size. No branch on the input's size, so an exported graph keeps it dynamic."""
    return F.interpolate(images, size=size, mode="bilinear", align_corners=False, antialias=True)


def _video_frames(video: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """``B x C x T x 64 x 64`` in [-1, 1] -> ``B x T x C x H x W`` in [0, 1] at ``size``."""
    frames = video.transpose(1, 2)
    batch, steps = frames.shape[:2]
    frames = _resize(frames.flatten(0, 1), size).unflatten(0, (batch, steps))
    return ((frames + 1.0) / 2.0).clamp(0.0, 1.0)


def _as_frames(streams: Streams, size: tuple[int, int]) -> dict[str, torch.Tensor]:
    steps = streams.video.shape[2]
    background = streams.background[:, :, None].expand(-1, -1, steps, -1, -1)
    mask = streams.mask.expand(-1, 3, -1, -1, -1) * 2.0 - 1.0  # shown as grey: 0 black, 1 white
    return {
        "video": _video_frames(streams.video, size),
        "background": _video_frames(background, size),
        "foreground": _video_frames(streams.foreground, size),
        "mask": _video_frames(mask, size),
    }


class VideoDiscriminator(nn.Module):
    """``B x 3 x T x 64 x 64`` in [-1, 1] -> one logit per video (real: high).

    Four 4x4x4 stride-2 convolutions with LeakyReLU 0.2 (batch norm, eps 1e-3, after all but the
    first), then a (T/16, 4, 4) convolution to the logit. The conditional model's is twice as wide."""

    def __init__(self, config: VideoGANConfig) -> None:
        super().__init__()
        base = (128, 256, 512, 1024) if config.condition == "image" else (64, 128, 256, 512)
        channels = [_channels(b, config.width) for b in base]
        layers: list[nn.Module] = [nn.Conv3d(3, channels[0], 4, 2, 1), nn.LeakyReLU(0.2, inplace=True)]
        for cin, cout in zip(channels, channels[1:]):
            layers += [nn.Conv3d(cin, cout, 4, 2, 1), nn.BatchNorm3d(cout, eps=1e-3), nn.LeakyReLU(0.2, True)]
        layers.append(nn.Conv3d(channels[-1], 1, (config.frames // FRAMES_MULTIPLE, 4, 4)))
        self.layers = nn.Sequential(*layers)
        init_weights(self)

    def forward(self, video: torch.Tensor) -> torch.Tensor:
        return self.layers(video).flatten(1)
