"""Turn a ``--device`` string (auto, cpu, cuda, cuda:N) into a ``torch.device``; channels-last weights."""

from __future__ import annotations

import re

import torch

from framepred.errors import UsageError


def resolve_device(name: str | torch.device = "auto") -> torch.device:
    """``auto`` picks the first CUDA GPU when there is one, else the CPU; a GPU that is not there
    is a usage error rather than a crash deep inside torch."""
    if isinstance(name, torch.device):
        return name
    text = str(name).strip().lower()
    if text == "auto":
        return torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")
    if text == "cpu":
        return torch.device("cpu")
    match = re.fullmatch(r"cuda(?::(\d+))?", text)
    if match is None:
        raise UsageError(f"unknown device {name!r}: use auto, cpu, cuda or cuda:N")
    if not torch.cuda.is_available():
        raise UsageError(f"device {name!r} was asked for but no CUDA GPU is available; use --device cpu")
    index = int(match.group(1) or 0)
    if index >= torch.cuda.device_count():
        raise UsageError(
            f"device {name!r} is not there: this machine has {torch.cuda.device_count()} GPU(s), from cuda:0"
        )
    return torch.device("cuda", index)


def channels_last_(module: torch.nn.Module) -> torch.nn.Module:
    """Store 4D weights channels_last and 5D weights (3D convolutions) channels_last_3d, in place.

    ``module.to(memory_format=...)`` takes one format and fails on a module with both kinds of
    weights (a 2D and a 3D stream in one generator). Buffers are laid out too."""
    formats = {4: torch.channels_last, 5: torch.channels_last_3d}
    for tensor in (*module.parameters(), *module.buffers()):
        if tensor.dim() in formats:
            tensor.data = tensor.data.contiguous(memory_format=formats[tensor.dim()])
    return module
