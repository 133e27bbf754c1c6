"""The VGG19 perceptual loss of DMVFN (spec dmvfn.md §7.1).

Both images are normalised with the ImageNet mean and standard deviation, passed through the frozen
VGG19 feature stack, and compared after ReLU1_1, ReLU2_1, ReLU3_1, ReLU4_1 and ReLU5_1 (layer indices 1,
6, 11, 20, 29). Each term is ``0.1 * weight * mean |f(prediction) - f(target)|`` with the target
features detached.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from framepred.losses.vgg import load_vgg19_features

TAP_LAYERS = (1, 6, 11, 20, 29)
TAP_WEIGHTS = (1.0 / 2.6, 1.0 / 4.8, 1.0 / 3.7, 1.0 / 5.6, 10.0 / 1.5)
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class VGGPerceptualLoss(nn.Module):
    """Weighted L1 between VGG19 activations; ``features`` may be given (tests) or loaded from disk."""

    def __init__(self, weights_path: str | Path | None = None, features: nn.Sequential | None = None) -> None:
        super().__init__()
        features = features if features is not None else load_vgg19_features(weights_path)
        # Layers past the last tap are never used; keep the torchvision indices for the rest.
        self.features = features[: TAP_LAYERS[-1] + 1]
        for parameter in self.features.parameters():
            parameter.requires_grad_(False)
        self.features.eval()
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    def train(self, mode: bool = True) -> VGGPerceptualLoss:
        # The feature extractor stays frozen in eval mode whatever the surrounding module does.
        super().train(mode)
        self.features.eval()
        return self

    def _taps(self, image: torch.Tensor) -> list[torch.Tensor]:
        x = (image - self.mean.to(image.dtype)) / self.std.to(image.dtype)
        taps = []
        for index, layer in enumerate(self.features):
            # ReLU(inplace) would overwrite the tapped activation; apply it out of place.
            x = torch.relu(x) if isinstance(layer, nn.ReLU) else layer(x)
            if index in TAP_LAYERS:
                taps.append(x)
        return taps

    def forward(self, prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        pred_taps = self._taps(prediction)
        with torch.no_grad():
            target_taps = self._taps(target)
        total = prediction.new_zeros(())
        for weight, p, t in zip(TAP_WEIGHTS, pred_taps, target_taps, strict=True):
            total = total + 0.1 * weight * (p - t.detach()).abs().mean()
        return total
