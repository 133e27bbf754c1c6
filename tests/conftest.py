"""Shared fixtures: the real footage in ../shared/data (skipped when absent) and small frame trees."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def pytest_collection_modifyitems(config, items):
    try:
        import torch

        has_cuda = torch.cuda.is_available()
    except ImportError:
        has_cuda = False
    if has_cuda:
        return
    skip = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def shared_data() -> Path:
    """The real video folder from ../shared/data; tests using it skip cleanly when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture
def udacity_video(shared_data: Path) -> Path:
    path = shared_data / "udacity_highway_solidWhiteRight" / "solidWhiteRight.mp4"
    if not path.exists():
        pytest.skip(f"{path} not found")
    return path
