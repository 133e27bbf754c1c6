"""LPIPS (Zhang et al. 2018), AlexNet backbone with the v0.1 linear heads: the ``lpips`` package's
default metric, computed in plain torch.

For ``B x 3 x H x W`` frames in [0, 1]: map to [-1, 1]; shift/scale per channel (ImageNet statistics
re-expressed for [-1, 1]); take AlexNet's five ReLU outputs; scale every feature vector to unit length
(``f / (|f| + 1e-10)``); square the difference between the two frames; weight the channels with the
learned non-negative heads; average over space; sum the five layers. Pred and gt go through the
backbone as one batch (on the CPU one pair at a time); :meth:`LPIPS.features` and
:meth:`LPIPS.distance` split the two halves, so that one ground truth compared with several
predictions (a model and its baselines) goes through AlexNet once.

Inputs are RGB, as the metric was trained. DMVFN's published tables fed BGR frames; ``bgr=True``
flips the channels first to reproduce them.
"""

from __future__ import annotations

import os

import torch
from torch import nn

from framepred.errors import CheckpointError, DataError
from framepred.metrics.alexnet import ALEXNET_MIN_SIDE, TAP_CHANNELS, AlexNet, load_features_state
from framepred.metrics.checks import check_pair
from framepred.metrics.weights import WeightFile, locate_backbone, locate_lin_weights

# lpips.ScalingLayer: 2 * ImageNet mean - 1 and 2 * ImageNet std, for inputs in [-1, 1].
SHIFT = (-0.030, -0.088, -0.188)
SCALE = (0.458, 0.448, 0.450)
NORM_EPS = 1e-10


def read_lin_weights(path: os.PathLike) -> list[torch.Tensor]:
    """The five non-negative channel weights (float64 vectors) of an lpips ``alex.pth`` head file."""
    state = torch.load(path, map_location="cpu", weights_only=True)
    weights = []
    for index, channels in enumerate(TAP_CHANNELS):
        key = f"lin{index}.model.1.weight"
        if key not in state or state[key].numel() != channels:
            raise CheckpointError(f"{path} lacks {key} with {channels} values; reinstall lpips==0.1.4")
        weights.append(state[key].reshape(channels).to(torch.float64))
    return weights


class LPIPS(nn.Module):
    """LPIPS distance per frame; build from weight files with :meth:`LPIPS.load`.

    ``features_state`` holds AlexNet's ``features.*`` tensors, ``lin_weights`` the five head vectors.
    ``backbone`` / ``lin_file`` describe where they came from (for the run's settings).
    """

    def __init__(
        self,
        features_state: dict[str, torch.Tensor],
        lin_weights: list[torch.Tensor],
        bgr: bool = False,
        backbone: WeightFile | None = None,
        lin_file: WeightFile | None = None,
    ) -> None:
        super().__init__()
        self.net = AlexNet()
        self.net.load_state_dict(features_state, strict=True)
        self.net.requires_grad_(False)
        self.net.eval()
        self.net.to(memory_format=torch.channels_last)
        for index, weight in enumerate(lin_weights):
            self.register_buffer(f"lin{index}", weight.to(torch.float64).reshape(-1))
        self.register_buffer("shift", torch.tensor(SHIFT).view(1, 3, 1, 1))
        self.register_buffer("scale", torch.tensor(SCALE).view(1, 3, 1, 1))
        self.bgr = bgr
        self.backbone = backbone
        self.lin_file = lin_file

    @classmethod
    def load(cls, backbone_path: str | os.PathLike | None = None, bgr: bool = False) -> LPIPS:
        """Locate (or download) the backbone and the wheel's heads; see :mod:`framepred.metrics.weights`."""
        backbone = locate_backbone(backbone_path)
        lin_file = locate_lin_weights()
        return cls(
            load_features_state(backbone.path), read_lin_weights(lin_file.path), bgr, backbone, lin_file
        )

    def train(self, mode: bool = True) -> LPIPS:
        # The metric never trains: keep the backbone in eval mode whatever the caller does.
        super().train(False)
        return self

    def forward(self, pred: torch.Tensor, gt: torch.Tensor) -> torch.Tensor:
        """LPIPS of each frame pair (float64, shape ``B``); frames in [0, 1], short side >= 31 px."""
        pred, gt = check_pair(pred, gt)
        # On the CPU one pair at a time: AlexNet's first feature maps of a whole batch are tens of MB,
        # which the allocator maps fresh (page faults) on every call and which overflow the cache;
        # a pair's maps are reused from the heap. Each frame's value does not depend on the others.
        step = 1 if pred.device.type == "cpu" else pred.shape[0]
        values = []
        for start in range(0, pred.shape[0], step):
            pair = torch.cat([pred[start : start + step], gt[start : start + step]])
            both = self.features(pair)
            count = pair.shape[0] // 2
            values.append(self.distance([f[:count] for f in both], [f[count:] for f in both], consume=True))
        return torch.cat(values)

    def features(self, frames: torch.Tensor) -> list[torch.Tensor]:
        """The five unit-length AlexNet feature maps of ``B x 3 x H x W`` frames in [0, 1]."""
        height, width = frames.shape[-2:]
        if min(height, width) < ALEXNET_MIN_SIDE:
            raise DataError(
                f"LPIPS needs frames whose short side is at least {ALEXNET_MIN_SIDE} px, "
                f"got {height}x{width}; leave LPIPS out for frames this small"
            )
        x = frames.to(self.shift.dtype)
        if self.bgr:
            x = x.flip(1)
        # [0, 1] -> [-1, 1] -> lpips' ScalingLayer, ((2x - 1) - shift) / scale, in one pass.
        x = torch.addcmul((-1.0 - self.shift) / self.scale, x, 2.0 / self.scale)
        # NHWC spares oneDNN its layout reorders between layers and speeds up max-pooling.
        x = x.contiguous(memory_format=torch.channels_last)
        taps = self.net.taps(x)
        # In place, once the whole stack has run (each tap is also the next layer's input): a fresh
        # copy of every map would cost as much memory traffic as a layer.
        for feature in taps:
            feature.div_(torch.linalg.vector_norm(feature, dim=1, keepdim=True).add_(NORM_EPS))
        return taps

    def distance(
        self, pred_features: list[torch.Tensor], gt_features: list[torch.Tensor], consume: bool = False
    ) -> torch.Tensor:
        """LPIPS (float64, shape ``B``) from the :meth:`features` of predictions and ground truths.
        ``consume``: the prediction features are not needed afterwards and are overwritten."""
        batch = pred_features[0].shape[0]
        total = torch.zeros(batch, dtype=torch.float64, device=pred_features[0].device)
        for index, (pred, gt) in enumerate(zip(pred_features, gt_features, strict=True)):
            diff = (pred.sub_(gt) if consume else pred - gt).square_()
            # The 1x1 "lin" convolution, then the spatial mean (accumulated in float64).
            weight = getattr(self, f"lin{index}").to(diff.dtype)
            weighted = torch.einsum("bchw,c->bhw", diff, weight)
            total = total + weighted.flatten(1).mean(dim=1, dtype=torch.float64)
        return total
