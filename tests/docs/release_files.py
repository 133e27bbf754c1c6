"""Release-shaped DMVFN files for the fake Google Drive of ``tests/docs/fake_gdown``."""

from __future__ import annotations

from pathlib import Path

import torch

from framepred.models import create_model
from framepred.models.zoo import DRIVE_IDS


def fake_releases(folder: Path, names: tuple[str, ...]) -> dict[str, list[str]]:
    """One file per Drive id, in ``DRIVE_IDS`` order, named by ``names``, with the DataParallel key
    names of the official release; returns the ``FAKE_GDOWN_FILES`` mapping (id -> [name, path])."""
    folder.mkdir()
    files = {}
    for seed, (drive_id, name) in enumerate(zip(DRIVE_IDS, names, strict=True)):
        torch.manual_seed(seed)  # a different model per file
        state = {"module." + k: v for k, v in create_model("dmvfn").state_dict().items()}
        torch.save(state, folder / name)
        files[drive_id] = [name, str(folder / name)]
    return files
