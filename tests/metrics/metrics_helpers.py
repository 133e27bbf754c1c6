"""Frame data for the metric tests: fixed random pairs and real consecutive video frames."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


def noisy_pair(
    shape: tuple[int, ...], noise: float = 0.1, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """A random frame batch and a noisy, clipped copy of it (fixed seed)."""
    generator = torch.Generator().manual_seed(seed)
    gt = torch.rand(shape, generator=generator)
    pred = (gt + noise * torch.randn(shape, generator=generator)).clamp(0.0, 1.0)
    return pred, gt


def real_pairs(folder: str, count: int = 2, stride: int = 3) -> tuple[torch.Tensor, torch.Tensor]:
    """``count`` (frame i, frame i + stride) pairs of a real sequence as [0, 1] tensors; skip when absent."""
    path = DATA / folder
    if not path.is_dir():
        pytest.skip(f"real data not found at {path}")
    from framepred.io.images import list_images, read_image

    frames = list_images(path)
    first = [read_image(frames[i]) for i in range(count)]
    later = [read_image(frames[i + stride]) for i in range(count)]

    def stack(images: list) -> torch.Tensor:
        return torch.stack([torch.from_numpy(im).permute(2, 0, 1) for im in images]).float() / 255.0

    return stack(later), stack(first)
