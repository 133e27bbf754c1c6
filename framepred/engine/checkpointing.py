"""Training checkpoints: a folder per checkpoint (``last``, ``best``), replaced atomically.

A checkpoint folder holds ``model.safetensors`` (the predicting network in framepred's weight format,
via ``save_model``: the EMA weights when the run keeps an EMA) and ``training_state.pt`` (every other
network, every optimizer and gradient scaler, the recipe's own state, counters, data position and
every RNG state; plain tensors and containers only, so ``torch.load(weights_only=True)`` reads it).
Both files are written into a hidden temporary folder that then replaces the old one by two renames.
A kill at any moment leaves either the old or the new complete folder: if it struck between the two
renames, the old folder survives under ``.<name>.old`` and :func:`recover` puts it back.
"""

from __future__ import annotations

import os
import random
import shutil
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn

from framepred.errors import CheckpointError

if TYPE_CHECKING:
    from framepred.models.checkpoint import LoadedModel

WEIGHTS_NAME = "model.safetensors"
STATE_NAME = "training_state.pt"


def rng_state() -> dict[str, Any]:
    """Every global RNG state, as tensors and plain Python values."""
    np_kind, np_keys, np_pos, np_has_gauss, np_gauss = np.random.get_state()
    py_version, py_internal, py_gauss = random.getstate()
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "numpy": {
            "kind": np_kind,
            "keys": torch.from_numpy(np_keys.astype(np.int64)),
            "pos": int(np_pos),
            "has_gauss": int(np_has_gauss),
            "gauss": float(np_gauss),
        },
        "python": {"version": py_version, "internal": list(py_internal), "gauss": py_gauss},
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    n = state["numpy"]
    np.random.set_state(
        (n["kind"], n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"], n["gauss"])
    )
    p = state["python"]
    random.setstate((p["version"], tuple(p["internal"]), p["gauss"]))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def recover(folder: Path) -> None:
    """Undo a replacement a kill interrupted: bring back ``.<name>.old`` when ``<name>`` is missing."""
    old = folder.with_name(f".{folder.name}.old")
    if not folder.exists() and old.is_dir():
        os.replace(old, folder)
    elif old.exists():
        shutil.rmtree(old, ignore_errors=True)
    for stale in folder.parent.glob(f".{folder.name}.tmp-*"):
        shutil.rmtree(stale, ignore_errors=True)


def save_checkpoint(
    folder: Path,
    model: nn.Module,
    training_state: dict[str, Any],
    step: int,
    colour_order: str = "RGB",
) -> None:
    """Write the predicting network's weights and the training state into ``folder``, atomically."""
    from framepred.models.checkpoint import save_model

    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    temp = folder.with_name(f".{folder.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    temp.mkdir()
    try:
        save_model(model, temp / WEIGHTS_NAME, colour_order=colour_order, extra_meta={"step": str(step)})
        # No fsync: the renames already make a killed process harmless, and fsync on a busy disk
        # can stall training for seconds at every checkpoint.
        torch.save(training_state, temp / STATE_NAME)
        old = folder.with_name(f".{folder.name}.old")
        if folder.exists():
            os.replace(folder, old)
        os.replace(temp, folder)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        if temp.exists():
            shutil.rmtree(temp, ignore_errors=True)


def load_checkpoint(folder: Path) -> tuple[LoadedModel, dict[str, Any]]:
    """The predicting network (rebuilt from model.safetensors) and the training state of ``folder``."""
    from framepred.models.checkpoint import load_model

    folder = Path(folder)
    recover(folder)
    weights, state_file = folder / WEIGHTS_NAME, folder / STATE_NAME
    if not weights.is_file() or not state_file.is_file():
        raise CheckpointError(f"{folder}: no complete checkpoint to resume from; start without --resume")
    loaded = load_model(weights)
    try:
        state = torch.load(state_file, map_location="cpu", weights_only=True)
    except Exception as error:  # a damaged file; the message names it
        raise CheckpointError(f"{state_file}: unreadable training state ({error}); delete the run") from error
    return loaded, state
