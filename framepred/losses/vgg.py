"""VGG19 ``features`` rebuilt in plain torch, with torchvision's parameter names.

framepred never imports torchvision; this module builds the same ``nn.Sequential`` layout so that the
ImageNet weight file torchvision publishes (``vgg19-dcbb9e9d.pth``) loads with matching keys
(``features.0.weight`` ... ``features.34.bias``). The weight file is looked for in the torch hub
cache (``torch.hub.get_dir()/checkpoints``, downloaded there from the zoo when missing and the network
allows) or taken from an explicit path; a file that is still missing is an error that says where to put
it, never a silent fallback.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from framepred.errors import CheckpointError, WeightsMissingError
from framepred.io.weights import fetch_file, hash_prefix_in_name, hub_checkpoint_dir, sha256_of

VGG19_FILENAME = "vgg19-dcbb9e9d.pth"
VGG19_URL = "https://download.pytorch.org/models/vgg19-dcbb9e9d.pth"

# Output channels per conv layer; "M" is a 2x2 max-pool (torchvision's configuration "E").
_VGG19_LAYOUT: list[int | str] = [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M"]
_VGG19_LAYOUT += [512, 512, 512, 512, "M", 512, 512, 512, 512, "M"]


def vgg19_features() -> nn.Sequential:
    """The 37-layer VGG19 feature stack (conv3x3 + ReLU, max-pools), default initialisation."""
    layers: list[nn.Module] = []
    channels = 3
    for item in _VGG19_LAYOUT:
        if item == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
        else:
            layers.append(nn.Conv2d(channels, int(item), kernel_size=3, padding=1))
            layers.append(nn.ReLU(inplace=True))
            channels = int(item)
    return nn.Sequential(*layers)


def default_vgg19_path() -> Path:
    return hub_checkpoint_dir() / VGG19_FILENAME


def resolve_vgg19_weights(path: str | Path | None = None) -> Path:
    """The VGG19 weight file to use: ``path`` if given, else the torch hub cache copy."""
    candidate = Path(path).expanduser() if path is not None else default_vgg19_path()
    if path is None and not candidate.is_file():
        fetch_file(VGG19_URL, candidate, hash_prefix_in_name(candidate))  # when the network allows
    if not candidate.is_file():
        where = f"{candidate}" if path is not None else f"the torch hub cache ({candidate})"
        raise WeightsMissingError(
            f"VGG19 weights not found at {where}: download {VGG19_URL} and put it there, "
            "pass --vgg-weights PATH, or train with --no-perceptual"
        )
    return candidate


def load_vgg19_features(path: str | Path | None = None) -> nn.Sequential:
    """VGG19 ``features`` with weights from a torchvision-layout state dict file.

    Only the ``features.*`` entries are used (the file may hold the classifier too). When the file name
    carries a hub-style hash (``vgg19-dcbb9e9d.pth``) the file's SHA-256 must start with it.
    """
    weights = resolve_vgg19_weights(path)
    prefix = hash_prefix_in_name(weights)
    if prefix is not None and not sha256_of(weights).startswith(prefix):
        raise CheckpointError(
            f"{weights}: SHA-256 does not start with {prefix} (corrupt or partial download); "
            f"delete it and download {VGG19_URL} again"
        )
    try:
        state = torch.load(weights, map_location="cpu", weights_only=True)
    except Exception as error:  # any unpickling failure means the file is not a state dict
        raise CheckpointError(f"{weights}: not a readable torch state dict ({error})") from error
    if not isinstance(state, dict):
        raise CheckpointError(f"{weights}: expected a state dict of tensors, found {type(state).__name__}")
    features = {k[len("features.") :]: v for k, v in state.items() if k.startswith("features.")}
    model = vgg19_features()
    missing = sorted(set(model.state_dict()) - set(features))
    if missing:
        raise CheckpointError(
            f"{weights}: not a torchvision VGG19 file (missing features.{missing[0]} and "
            f"{len(missing) - 1} more keys)"
        )
    model.load_state_dict(features, strict=True)
    return model
