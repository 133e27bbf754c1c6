"""The official DMVFN releases (``dmvfn_city.pkl``, ``dmvfn_kitti.pkl``, ``dmvfn_vimeo.pkl``).

Each is a ``torch.save`` of the network's plain state dict as the official DDP training saved it
(``module.`` prefixed keys, removed by the generic reader). Parameter names match
``framepred.models.dmvfn``, so the dict loads with ``strict=True``. The releases were trained on
frames as OpenCV reads them, so their weights expect **BGR** input; the Predictor converts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from framepred.errors import CheckpointError, FramepredError
from framepred.models.checkpoint import LoadedModel, ReleaseFormat, load_weights, register_release_format
from framepred.models.registry import create_model

COLOUR_ORDER = "BGR"


def _claims(state: dict[str, torch.Tensor]) -> bool:
    # The router and the first block are in every DMVFN, whatever its widths.
    return any(key.startswith(("block0.", "routing.", "l1.")) for key in state)


def _build(state: dict[str, torch.Tensor], path: Path, overrides: dict[str, Any]) -> LoadedModel:
    try:
        model = create_model("dmvfn", **overrides)
    except FramepredError as error:
        raise CheckpointError(f"{path}: {error}") from error
    load_weights(model, state, path, "DMVFN state dict")
    meta = {"format": "official-dmvfn", "framepred.model": "dmvfn", "framepred.colour_order": COLOUR_ORDER}
    return LoadedModel(model, "dmvfn", COLOUR_ORDER, meta)


register_release_format(ReleaseFormat("DMVFN state dict", _claims, _build))
