"""AlexNet's convolutional ``features`` in plain torch, with torchvision's layer indices and key names.

LPIPS taps this stack; torchvision cannot be imported here, so the layers are rebuilt with the same
indices (``features.0`` .. ``features.12``) that the model-zoo file ``alexnet-owt-7be5be79.pth`` uses.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from framepred.errors import CheckpointError

# Slices of ``features`` whose ends are the five ReLU outputs LPIPS compares (relu1 .. relu5).
TAP_SLICES = ((0, 2), (2, 5), (5, 8), (8, 10), (10, 12))
TAP_CHANNELS = (64, 192, 384, 256, 256)
# A 30-px side already fails in the second max-pool; 31 px is the smallest input AlexNet accepts.
ALEXNET_MIN_SIDE = 31


class AlexNet(nn.Module):
    """``AlexNet.features`` only (the classifier is never used by LPIPS)."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, kernel_size=11, stride=4, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(64, 192, kernel_size=5, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(192, 384, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(256, 256, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
        )

    def taps(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The five ReLU outputs relu1 .. relu5 (the final max-pool is not run)."""
        outputs = []
        for start, stop in TAP_SLICES:
            for index in range(start, stop):
                x = self.features[index](x)
            outputs.append(x)
        return outputs

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x)


def load_features_state(path: Path) -> dict[str, torch.Tensor]:
    """The ``features.*`` tensors of a torchvision AlexNet state dict file (classifier keys dropped)."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for a corrupt or foreign file
        raise CheckpointError(
            f"cannot read AlexNet weights from {path}: {exc}; use torchvision's alexnet-owt-7be5be79.pth"
        ) from exc
    if not isinstance(state, dict):
        raise CheckpointError(f"{path} is not a state dict; use torchvision's alexnet-owt-7be5be79.pth")
    features = {k: v for k, v in state.items() if k.startswith("features.")}
    expected = set(AlexNet().state_dict())
    if set(features) != expected:
        raise CheckpointError(
            f"{path} does not hold AlexNet features (expected keys {sorted(expected)}); "
            "use torchvision's alexnet-owt-7be5be79.pth"
        )
    return features
