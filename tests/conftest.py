"""Shared fixtures: the real footage in ../shared/data (skipped when absent) and small frame trees."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def pytest_configure(config):
    """Under pytest-xdist, each worker gets an equal share of the cores for torch's own threads, so
    two workers on two cores do not run four threads."""
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if workers > 1:
        import torch

        torch.set_num_threads(max(1, (os.cpu_count() or 1) // workers))


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


@pytest.fixture(autouse=True)
def private_framepred_home(tmp_path_factory, monkeypatch) -> Path:
    """Every test gets an empty framepred home, no mirror, a gdown that cannot reach Google Drive (no
    test downloads from the internet or touches the user's cache), and glibc's allocator as it is."""
    home = tmp_path_factory.mktemp("framepred-home")
    monkeypatch.setenv("FRAMEPRED_HOME", str(home))
    # the commands' allocator settings would last for the rest of the test process; tests of them
    # run the commands in fresh processes (tests/inference/test_allocator.py)
    monkeypatch.setenv("FRAMEPRED_MALLOC_TUNE", "0")
    for name in [n for n in os.environ if n.startswith("FRAMEPRED_WEIGHTS_URL") or n == "FRAMEPRED_OFFLINE"]:
        monkeypatch.delenv(name)
    try:
        import gdown
    except ImportError:
        return home

    def no_internet(*args, **kwargs):
        raise RuntimeError("tests never download from Google Drive; replace gdown.download in the test")

    monkeypatch.setattr(gdown, "download", no_internet)
    return home
