"""DMVFN: Dynamic Multi-scale Voxel Flow Network (Hu et al., CVPR 2023).

A faithful re-implementation of the official network (see ``../shared/specs/dmvfn.md``): nine
MVFB blocks refine a pair of backward flows and a blending mask coarse to fine, a small router
decides which blocks run, and the prediction is the mask-weighted blend of the two warped input
frames. Parameter names match the official code, so an official state dict (its ``module.``
prefix removed) loads with ``strict=True``.

Two entry points:

* ``forward(x, scale, training)``: the official contract. ``x`` is ``B x 6 x H x W`` (frame t-1,
  frame t; extra channels are ignored), the result is the list of fused frames (9 in training,
  one per executed block at test time).
* ``predict(context)``: the framepred model interface (``B x 2 x 3 x H x W`` -> ``B x 3 x H x W``).

Routing modes (``DMVFNConfig.routing``): ``sample`` draws the official Bernoulli gates, fresh for
every sample of every call, from one CPU generator that starts at ``seed`` (``reseed`` starts it
again; a Predictor does so when it is made), so a run is reproducible and gates are independent
across frames and steps, as in the official test; ``threshold`` runs a block when its probability
is at least 0.5; ``all`` runs every block ("DMVFN without routing") and skips the router, or, with
``blocks``, a fixed subset of them (a fixed gate mask). At test time each sample has its own gates
and a block runs only on the samples that selected it, so switched-off blocks cost nothing. With
fixed gates ``predict`` has no data-dependent branch, so it can be traced and exported (ONNX,
TorchScript) and compiled without graph breaks.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from functools import lru_cache

import torch
import torch.nn.functional as F
from torch import nn

from framepred.errors import UsageError
from framepred.models.registry import register_model

ROUTING_MODES = ("sample", "threshold", "all")
OFFICIAL_SCALES = (4, 4, 4, 2, 2, 2, 1, 1, 1)
OFFICIAL_FEATURES = (160, 160, 160, 80, 80, 80, 44, 44, 44)


@dataclass(frozen=True)
class DMVFNConfig:
    routing: str = "sample"  # sample | threshold | all
    seed: int = 1234  # where the test-time Bernoulli gates of "sample" mode start (see DMVFN.reseed)
    scales: tuple[int, ...] = OFFICIAL_SCALES  # resize factor of each block's coarse branch
    features: tuple[int, ...] = OFFICIAL_FEATURES  # channels (num_feature) of each block
    blocks: tuple[int, ...] | None = None  # with routing "all": run only these blocks (a fixed gate mask)

    def __post_init__(self) -> None:
        # JSON (checkpoint metadata) turns tuples into lists; keep the config hashable and uniform.
        object.__setattr__(self, "scales", tuple(int(s) for s in self.scales))
        object.__setattr__(self, "features", tuple(int(c) for c in self.features))
        if self.blocks is not None:
            object.__setattr__(self, "blocks", tuple(sorted({int(b) for b in self.blocks})))
        if self.routing not in ROUTING_MODES:
            raise UsageError(
                f"unknown DMVFN routing {self.routing!r}: choose one of {', '.join(ROUTING_MODES)}"
            )
        if len(self.scales) != len(self.features) or not self.scales:
            raise UsageError(
                "DMVFN needs one scale per block: 'scales' and 'features' must have the same length"
            )
        if any(c % 4 for c in self.features):
            raise UsageError(f"DMVFN block features must be multiples of 4, got {list(self.features)}")
        if self.blocks is not None:
            if self.routing != "all":
                raise UsageError(
                    f"a fixed DMVFN block mask replaces the router: use routing 'all' with it, "
                    f"not {self.routing!r}"
                )
            if any(not 0 <= b < len(self.features) for b in self.blocks):
                raise UsageError(
                    f"DMVFN blocks are numbered 0 to {len(self.features) - 1}, got {list(self.blocks)}"
                )


def conv(in_channels: int, out_channels: int, stride: int = 1) -> nn.Sequential:
    """3x3 convolution with bias followed by a PReLU with one slope per channel (names: .0 and .1)."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, stride, 1, bias=True), nn.PReLU(out_channels)
    )


@lru_cache(maxsize=16)
def _sampling_grid(
    device: torch.device, dtype: torch.dtype, height: int, width: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """The identity grid (1 x H x W x 2, x then y, pixel centres of the edges at -1 and +1) and the
    pixels-per-unit divisor of each axis. Cached per (device, dtype, size), so it lives where it is used."""
    # Made as normal tensors even when first asked for under inference_mode: training reuses them,
    # and autograd cannot save inference tensors for backward.
    with torch.inference_mode(False):
        ys, xs = torch.meshgrid(
            torch.linspace(-1.0, 1.0, height, device=device, dtype=dtype),
            torch.linspace(-1.0, 1.0, width, device=device, dtype=dtype),
            indexing="ij",
        )
        divisor = torch.tensor([(width - 1.0) / 2.0, (height - 1.0) / 2.0], device=device, dtype=dtype)
        return torch.stack([xs, ys], -1)[None], divisor


def backward_warp(image: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    """Sample ``image`` at ``p + flow(p)``; flow (same size as the image) is in pixels, channel 0 = x."""
    if torch.jit.is_tracing() or torch.compiler.is_compiling() or torch.compiler.is_exporting():
        grid = _traceable_grid(flow)  # sizes may be symbolic here, and a cached grid would be a constant
    else:
        grid, divisor = _sampling_grid(flow.device, flow.dtype, flow.shape[2], flow.shape[3])
        grid = grid + flow.permute(0, 2, 3, 1) / divisor
    return F.grid_sample(image, grid, mode="bilinear", padding_mode="border", align_corners=True)


def _traceable_grid(flow: torch.Tensor) -> torch.Tensor:
    """The sampling grid of ``backward_warp`` built from the flow's own size, for export and compile
    (``arange``, not ``linspace``: export keeps sizes symbolic only through the former)."""
    height, width = flow.shape[2], flow.shape[3]
    xs = torch.arange(width, device=flow.device, dtype=flow.dtype).mul(2.0 / (width - 1)).sub(1.0)
    ys = torch.arange(height, device=flow.device, dtype=flow.dtype).mul(2.0 / (height - 1)).sub(1.0)
    grid_x = xs.view(1, 1, -1) + flow[:, 0] * (2.0 / (width - 1))
    grid_y = ys.view(1, -1, 1) + flow[:, 1] * (2.0 / (height - 1))
    return torch.stack([grid_x, grid_y], -1)


def fuse(img0: torch.Tensor, img1: torch.Tensor, flow: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Warp both frames with their halves of the flow and blend them with sigmoid(mask)."""
    return blend(backward_warp(img0, flow[:, 0:2]), backward_warp(img1, flow[:, 2:4]), mask)


def blend(warped0: torch.Tensor, warped1: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    weight = torch.sigmoid(mask)
    return (warped0 * weight + warped1 * (1 - weight)).clamp(0.0, 1.0)


class MVFB(nn.Module):
    """Multi-scale Voxel Flow Block: a coarse motion branch and a fine spatial branch, fused by a
    transposed convolution into a flow delta (4 channels, full-resolution pixels) and a mask delta."""

    def __init__(self, in_planes: int, num_feature: int) -> None:
        super().__init__()
        c = num_feature
        self.conv0 = nn.Sequential(conv(in_planes, c // 2, 2), conv(c // 2, c, 2))
        self.convblock = nn.Sequential(conv(c, c), conv(c, c), conv(c, c))
        self.conv_sq = conv(c, c // 4)
        self.conv1 = nn.Sequential(conv(in_planes, 8, 2))
        self.convblock1 = nn.Sequential(conv(8, 8))
        self.lastconv = nn.ConvTranspose2d(c // 4 + 8, 5, 4, 2, 1)

    def forward(self, x: torch.Tensor, flow: torch.Tensor, scale: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The official signature: ``x`` the 13 image/mask channels, ``flow`` the 4 flow channels."""
        return self.forward_stacked(torch.cat([x, flow], 1), scale)

    def forward_stacked(self, stacked: torch.Tensor, scale: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Same as ``forward`` with x and flow already concatenated (flow last); both branches
        read the same 17 channels, so callers build them once, in the memory format they want."""
        out = self.lastconv(self._last_input(stacked, scale))
        return out[:, 0:4], out[:, 4:5]

    def state_delta(self, stacked: torch.Tensor, scale: int) -> torch.Tensor:
        """``forward_stacked``'s two deltas as one 5-channel tensor in the order of the test-time
        state (mask delta, then the flow delta), so one in-place add updates both.

        Eagerly, ``lastconv`` (a 4x4 transposed convolution with stride 2) runs as its sub-pixel
        form: one 2x2 convolution to 4 x 5 channels at half size, one group of 5 per output pixel
        parity, interleaved into the full-size output. The same products, summed in another order
        (within a few 1e-6 of the transposed convolution), and faster on the CPU, where oneDNN's
        transposed convolution to 5 channels is slow (measured: 25 against 35 ms for 48 input
        channels at 256x512, one thread). Traced and compiled graphs keep the transposed one."""
        features = self._last_input(stacked, scale)
        order = [4, 0, 1, 2, 3]
        weight, bias = self.lastconv.weight[:, order], self.lastconv.bias[order]
        if _is_tracing():
            return F.conv_transpose2d(features, weight, bias, stride=2, padding=1)
        parities = F.conv2d(features, *_subpixel_weights(weight, bias), padding=1)
        return _interleave_parities(parities)

    def _last_input(self, stacked: torch.Tensor, scale: int) -> torch.Tensor:
        """The coarse motion features (upsampled to half size) beside the fine ones: what
        ``lastconv`` reads."""
        coarse = stacked
        if scale != 1:
            coarse = F.interpolate(stacked, scale_factor=1.0 / scale, mode="bilinear", align_corners=False)
            # Flow is in pixels: shrinking the grid shrinks the displacements too.
            rescale = coarse.new_ones(1, coarse.shape[1], 1, 1)
            rescale[:, -4:] = 1.0 / scale
            coarse = coarse * rescale
        feat = self.conv0(coarse)
        feat = self.convblock(feat) + feat
        feat = self.conv_sq(feat)
        feat = F.interpolate(feat, scale_factor=scale * 2, mode="bilinear", align_corners=False)
        fine = self.convblock1(self.conv1(stacked))
        return cat_channels(feat, fine)


def _subpixel_weights(weight: torch.Tensor, bias: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The 2x2 convolution equal to ``conv_transpose2d(kernel 4, stride 2, padding 1)`` for each
    output parity (a, b): ``4 * C_out x C_in x 2 x 2``, parity (0,0), (0,1), (1,0), (1,1) in turn.

    With padding 1, the 2x2 window at half-size position p covers input rows p-1 and p. Output row
    2m takes input rows m-1 and m through kernel rows 3 and 1 (window p = m); output row 2m+1
    takes rows m and m+1 through kernel rows 2 and 0 (window p = m+1). Columns alike."""
    taps = ([3, 1], [2, 0])  # kernel rows (columns) of parity 0 and 1, window order
    parts = [weight[:, :, taps[a]][:, :, :, taps[b]].transpose(0, 1) for a in (0, 1) for b in (0, 1)]
    return torch.cat(parts).contiguous(memory_format=torch.channels_last), bias.repeat(4)


def _interleave_parities(parities: torch.Tensor) -> torch.Tensor:
    """``B x 4C x (h+1) x (w+1)`` sub-pixel outputs -> ``B x C x 2h x 2w``: output pixel
    (2m+a, 2n+b) is parity (a, b) at window (m+a, n+b) (see ``_subpixel_weights``)."""
    batch, channels4, height1, width1 = parities.shape
    channels, height, width = channels4 // 4, height1 - 1, width1 - 1
    memory_format = torch.channels_last if _is_channels_last(parities) else torch.contiguous_format
    out = torch.empty(
        (batch, channels, 2 * height, 2 * width),
        dtype=parities.dtype,
        device=parities.device,
        memory_format=memory_format,
    )
    for k, (a, b) in enumerate(((0, 0), (0, 1), (1, 0), (1, 1))):
        out[:, :, a::2, b::2] = parities[:, k * channels : (k + 1) * channels, a : a + height, b : b + width]
    return out


def cat_channels(*tensors: torch.Tensor) -> torch.Tensor:
    """``torch.cat(tensors, 1)``, the same values; for channels_last tensors it concatenates their
    NHWC views on the last axis, which is several times faster on the CPU than ``torch.cat`` on
    the channel axis of channels_last tensors (measured: 2.5 against 15 ms for 40 + 8 channels at
    256x512), and gives a channels_last result as well."""
    if all(_is_channels_last(t) for t in tensors):
        return torch.cat([t.permute(0, 2, 3, 1) for t in tensors], 3).permute(0, 3, 1, 2)
    return torch.cat(tensors, 1)


class _StraightThroughBernoulli(torch.autograd.Function):
    """Forward: a Bernoulli draw. Backward: the gradient passes through unchanged."""

    @staticmethod
    def forward(ctx, probabilities: torch.Tensor) -> torch.Tensor:  # noqa: ANN001
        return torch.bernoulli(probabilities)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:  # noqa: ANN001
        return grad


@register_model(
    "dmvfn",
    DMVFNConfig,
    "DMVFN (Hu et al., CVPR 2023): routed multi-scale voxel flow",
    small={"features": [8] * 9},
)
class DMVFN(nn.Module):
    context_frames = 2
    size_multiple = 16

    def __init__(self, config: DMVFNConfig | None = None) -> None:
        super().__init__()
        self.config = config or DMVFNConfig()
        # Official names block0..block8 (not a ModuleList) so state-dict keys match.
        self.num_blocks = len(self.config.features)
        for index, features in enumerate(self.config.features):
            setattr(self, f"block{index}", MVFB(13 + 4, features))
        self.routing = nn.Sequential(
            nn.Conv2d(6, 32, 3, 1, 1), nn.ReLU(), nn.Conv2d(32, 32, 3, 1, 1), nn.AdaptiveAvgPool2d(1)
        )
        self.l1 = nn.Linear(32, self.num_blocks)
        self._gate_generator: torch.Generator | None = None  # made from config.seed on first use

    def reseed(self, seed: int | None = None) -> None:
        """Start the test-time gate draws of ``sample`` mode again from ``seed`` (default: the
        config's). Every later call advances the same stream, so calls draw fresh gates."""
        self._gate_generator = torch.Generator().manual_seed(self.config.seed if seed is None else seed)

    def __deepcopy__(self, memo: dict) -> DMVFN:
        # A torch.Generator cannot be deep-copied; a copy (e.g. an EMA) gets its own stream.
        clone = copy.copy(self)
        memo[id(self)] = clone
        clone.__dict__ = copy.deepcopy(
            {k: v for k, v in self.__dict__.items() if k != "_gate_generator"}, memo
        )
        clone._gate_generator = None
        return clone

    def blocks(self) -> list[MVFB]:
        return [getattr(self, f"block{index}") for index in range(self.num_blocks)]

    def export_problem(self) -> str | None:
        """Why this configuration cannot be one exported graph (see framepred.inference.export)."""
        if self.fixed_blocks() is None:
            return (
                f"routing {self.config.routing!r} decides per frame which blocks run, which one graph "
                "cannot express; export with --routing all or a fixed mask such as --blocks 0,3,6"
            )
        return None

    def fixed_blocks(self) -> tuple[int, ...] | None:
        """The blocks every input runs when the gates do not depend on the input (routing ``all``,
        optionally restricted by ``blocks``), else None."""
        if self.config.routing != "all":
            return None
        return tuple(range(self.num_blocks)) if self.config.blocks is None else self.config.blocks

    # ---- routing --------------------------------------------------------------------------------

    def routing_probabilities(self, x: torch.Tensor) -> torch.Tensor:
        """Per-sample probability of running each block (``B x num_blocks``), normalised so that
        about half of the blocks run on average (4.5 of 9), then clamped to [0, 1]."""
        p = torch.sigmoid(self.l1(self.routing(x[:, :6]).flatten(1)))
        p = p / (p.sum(1, keepdim=True) + 1e-6) * (self.num_blocks / 2)
        return p.clamp(0.0, 1.0)

    def _test_gates(self, x: torch.Tensor) -> torch.Tensor:
        """Boolean ``B x num_blocks`` gates on the CPU (the block loop branches on them)."""
        if self.config.routing == "all":
            return self._fixed_gates(x.shape[0], torch.device("cpu"), torch.bool)
        p = self.routing_probabilities(x).float().cpu()
        if self.config.routing == "threshold":
            return p >= 0.5
        # Drawn on the CPU, sample by sample: the same seed gives the same gates on every device.
        if self._gate_generator is None:
            self.reseed()
        return torch.bernoulli(p, generator=self._gate_generator).bool()

    def _training_gates(self, x: torch.Tensor) -> torch.Tensor:
        """Float ``B x num_blocks`` gates; the router learns through a straight-through estimator."""
        if self.config.routing == "all":
            return self._fixed_gates(x.shape[0], x.device, x.dtype)
        p = self.routing_probabilities(x)
        if self.config.routing == "threshold":
            return p + ((p >= 0.5).to(p.dtype) - p).detach()
        return _StraightThroughBernoulli.apply(p)

    def _fixed_gates(self, batch: int, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
        gates = torch.zeros(batch, self.num_blocks, device=device, dtype=dtype)
        gates[:, list(self.fixed_blocks())] = 1
        return gates

    # ---- forward ----------------------------------------------------------------------------------

    def forward(
        self, x: torch.Tensor, scale: list[int] | None = None, training: bool = True
    ) -> list[torch.Tensor]:
        """The official contract: a list of fused frames, the prediction last (see module doc)."""
        scales = list(self.config.scales if scale is None else scale)
        if len(scales) != self.num_blocks:
            raise UsageError(f"DMVFN needs {self.num_blocks} scales, got {len(scales)}")
        if training:
            return self._training_path(x, scales, self._training_gates(x))
        return self._test_path(x, scales, self._test_gates(x))[0]

    def predict(self, context: torch.Tensor) -> torch.Tensor:
        """``B x 2 x 3 x H x W`` (t-1, t) in [0, 1] -> frame t+1; H and W multiples of 16."""
        height, width = context.shape[-2:]
        if height % self.size_multiple or width % self.size_multiple:
            raise UsageError(
                f"DMVFN needs frame sizes that are multiples of {self.size_multiple}, got {height}x{width}: "
                "pad the frames first (framepred.inference.Predictor does this)"
            )
        img0 = context[:, 0]
        x = torch.cat([img0, context[:, 1]], 1)
        fixed = self.fixed_blocks()
        if fixed is not None:
            return self._fixed_path(x, list(self.config.scales), fixed)
        outputs, fired = self._test_path(x, list(self.config.scales), self._test_gates(x), keep_all=False)
        if not outputs:
            return img0.clone()
        # The official evaluation falls back to frame t-1 when the router switched every block off.
        fired = fired.to(x.device).view(-1, 1, 1, 1)
        return torch.where(fired, outputs[-1], img0)

    def _training_path(self, x: torch.Tensor, scales: list[int], gates: torch.Tensor) -> list[torch.Tensor]:
        # Every block runs on every sample; the gates decide how much of each delta is kept.
        # Output i < last fuses the ungated candidate (deep supervision); the last output fuses
        # the gated final state.
        img0, img1 = x[:, 0:3], x[:, 3:6]
        batch, _, height, width = img0.shape
        flow = img0.new_zeros(batch, 4, height, width)
        mask = img0.new_zeros(batch, 1, height, width)
        warped0, warped1 = img0, img1
        outputs = []
        last = self.num_blocks - 1
        for index, block in enumerate(self.blocks()):
            stacked = torch.cat([img0, img1, warped0, warped1, mask, flow], 1)
            flow_delta, mask_delta = block.forward_stacked(stacked, scales[index])
            if index < last:
                outputs.append(fuse(img0, img1, flow + flow_delta, mask + mask_delta))
            gate = gates[:, index].view(batch, 1, 1, 1)
            flow = flow + flow_delta * gate
            mask = mask + mask_delta * gate
            warped0 = backward_warp(img0, flow[:, 0:2])
            warped1 = backward_warp(img1, flow[:, 2:4])
        outputs.append(blend(warped0, warped1, mask))
        return outputs

    @torch.no_grad()
    def _fixed_path(self, x: torch.Tensor, scales: list[int], blocks: tuple[int, ...]) -> torch.Tensor:
        """The test path when every sample runs the same blocks: the same steps as ``_test_path``
        without a branch on tensor values, so it traces, exports and compiles as one graph."""
        if not blocks:
            return x[:, 0:3].clone()  # the official fallback when no block runs: frame t-1
        state, images, grids = _initial_state(x)
        modules = self.blocks()
        for index in blocks:
            _refine(modules[index], scales[index], state, images, grids)
        return blend(state[:, 6:9], state[:, 9:12], state[:, 12:13])

    @torch.no_grad()  # hard gates at test time: nothing here is differentiable (as in the official code)
    def _test_path(
        self, x: torch.Tensor, scales: list[int], gates: torch.Tensor, keep_all: bool = True
    ) -> tuple[list[torch.Tensor], torch.Tensor]:
        """Run each block only on the samples whose gate is on. Returns the fused frame after every
        block that ran on at least one sample (only the final one unless ``keep_all``), and which
        samples ran any block at all."""
        state, images, grids = _initial_state(x)
        batch = x.shape[0]
        memory_format = torch.channels_last if _is_channels_last(x) else torch.contiguous_format
        outputs = []
        for index, block in enumerate(self.blocks()):
            active = gates[:, index]
            if not bool(active.any()):
                continue
            if bool(active.all()):
                _refine(block, scales[index], state, images, grids)
            else:
                rows = active.nonzero().flatten().to(x.device)
                part = state.index_select(0, rows).contiguous(memory_format=memory_format)
                part_images = part_grids = None
                if images is not None and grids is not None:
                    part_images = images.view(2, batch, *images.shape[1:]).index_select(1, rows).flatten(0, 1)
                    part_grids = grids.new_empty(2, len(rows), *grids.shape[2:])
                _refine(block, scales[index], part, part_images, part_grids)
                state.index_copy_(0, rows, part)
            if keep_all:
                outputs.append(blend(state[:, 6:9], state[:, 9:12], state[:, 12:13]))
        if not keep_all and bool(gates.any()):
            outputs.append(blend(state[:, 6:9], state[:, 9:12], state[:, 12:13]))
        return outputs, gates.any(1)


def _initial_state(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
    """The running state of the test path, the two frames it warps (stacked on the batch axis) and
    a buffer for their sampling grids; the last two are None in a traced or compiled graph."""
    # The running state lives in one 17-channel tensor laid out as every block reads it:
    # img0, img1 (0-5), warped img0, warped img1 (6-11), mask logit (12), flow (13-16). Blocks
    # update it in place, so nothing is concatenated per block. It keeps the input's memory
    # format: with channels_last the convolutions are several times faster on CPU, as long as
    # nothing converts back and forth.
    memory_format = torch.channels_last if _is_channels_last(x) else torch.contiguous_format
    batch, _, height, width = x.shape
    state = torch.empty(
        (batch, 17, height, width), dtype=x.dtype, device=x.device, memory_format=memory_format
    )
    state[:, 0:6] = x[:, 0:6]
    state[:, 6:12] = x[:, 0:6]  # nothing warped yet
    state[:, 12:17] = 0.0
    if _is_tracing():
        return state, None, None  # _refine warps from the state itself (see there)
    # Both frames on the batch axis (all of frame t-1 first), in plain NCHW: one grid_sample call
    # warps both, and it gathers faster from planes than from channels_last pixels.
    images = torch.cat([x[:, 0:3], x[:, 3:6]]).contiguous()
    grids = x.new_empty(2, batch, height, width, 2)
    return state, images, grids


def _is_tracing() -> bool:
    return torch.jit.is_tracing() or torch.compiler.is_compiling() or torch.compiler.is_exporting()


def _is_channels_last(x: torch.Tensor) -> bool:
    return x.dim() == 4 and not x.is_contiguous() and x.is_contiguous(memory_format=torch.channels_last)


def _refine(
    block: MVFB, scale: int, state: torch.Tensor, images: torch.Tensor | None, grids: torch.Tensor | None
) -> None:
    """One test-time block step, updating ``state`` (layout in ``_initial_state``) in place."""
    state[:, 12:17] += block.state_delta(state, scale)
    if images is None or grids is None:
        # Traced or compiled: plain warps of the frames held in the state (the batch stays symbolic,
        # which a frame pair stacked on the batch axis would not let an exporter keep).
        state[:, 6:9] = backward_warp(state[:, 0:3], state[:, 13:15])
        state[:, 9:12] = backward_warp(state[:, 3:6], state[:, 15:17])
        return
    batch, _, height, width = state.shape
    identity, divisor = _sampling_grid(state.device, state.dtype, height, width)
    # grid = identity + flow / divisor, both warps in one kernel, written into the buffer
    flows = state[:, 13:17].permute(0, 2, 3, 1).unflatten(3, (2, 2)).permute(3, 0, 1, 2, 4)
    torch.addcdiv(identity[None], flows, divisor, out=grids)
    warped = F.grid_sample(
        images, grids.flatten(0, 1), mode="bilinear", padding_mode="border", align_corners=True
    )
    state[:, 6:12].unflatten(1, (2, 3)).copy_(warped.view(2, batch, 3, height, width).transpose(0, 1))
