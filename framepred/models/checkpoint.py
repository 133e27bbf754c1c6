"""Model weight files: framepred's own safetensors format, and the release formats of model families.

framepred format: a safetensors file whose metadata names the model (``framepred.model``), its
config as JSON (``framepred.config``), the colour order the weights expect (``framepred.colour_order``,
RGB or BGR) and the framepred version that wrote it; one file rebuilds the model.

Any other file is read as a ``torch.save`` of a plain dict of tensors (the way research code
releases weights), with ``torch.load(weights_only=True)``, which refuses any pickled object other
than tensors and containers, so a crafted file cannot run code. DistributedDataParallel's
``module.`` prefix is removed. Which family the dict belongs to is decided by the release formats
the families register here (``register_release_format``; the official DMVFN releases:
``models/dmvfn_release.py``), each of which recognises its keys and rebuilds its model.
"""

from __future__ import annotations

import dataclasses
import json
import os
import pickle
import struct
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from framepred.errors import CheckpointError, FramepredError
from framepred.io.atomic import atomic_path
from framepred.models.registry import create_model, list_models, model_entry

COLOUR_ORDERS = ("RGB", "BGR")
_KEY_MODEL = "framepred.model"
_KEY_CONFIG = "framepred.config"
_KEY_COLOUR = "framepred.colour_order"
_KEY_VERSION = "framepred.version"
_HINT = "pass a framepred .safetensors checkpoint or an official release (e.g. DMVFN .pkl/.pth)"


@dataclass(frozen=True)
class ReleaseFormat:
    """A family's released weight files: ``claims(state)`` says whether a state dict is one of them,
    ``build(state, path, overrides)`` rebuilds the model (raising CheckpointError if it does not fit)."""

    name: str  # e.g. "DMVFN state dict", for messages
    claims: Callable[[dict[str, torch.Tensor]], bool]
    build: Callable[[dict[str, torch.Tensor], Path, dict[str, Any]], LoadedModel]


_RELEASE_FORMATS: list[ReleaseFormat] = []


def register_release_format(release: ReleaseFormat) -> None:
    if all(r.name != release.name for r in _RELEASE_FORMATS):
        _RELEASE_FORMATS.append(release)


@dataclass
class LoadedModel:
    model: nn.Module
    name: str
    colour_order: str  # the channel order the weights expect: "RGB" or "BGR"
    meta: dict[str, str] = field(default_factory=dict)


def save_model(
    model: nn.Module,
    path: str | os.PathLike,
    colour_order: str = "RGB",
    extra_meta: dict[str, str] | None = None,
) -> None:
    """Write ``model``'s weights, name, config and colour order to a safetensors file (atomically)."""
    from safetensors.torch import save_file

    from framepred import __version__

    name = getattr(model, "registered_name", None)
    if name is None:
        raise CheckpointError(
            f"{path}: {type(model).__name__} is not a registered framepred model; cannot save it"
        )
    if colour_order not in COLOUR_ORDERS:
        raise CheckpointError(f"{path}: colour order must be RGB or BGR, got {colour_order!r}")
    metadata = {str(k): str(v) for k, v in (extra_meta or {}).items()}
    metadata.update(
        {
            _KEY_MODEL: name,
            _KEY_CONFIG: json.dumps(dataclasses.asdict(model.config)),
            _KEY_COLOUR: colour_order,
            _KEY_VERSION: __version__,
        }
    )
    # .contiguous() also undoes channels_last, so files do not depend on how the model ran.
    tensors = {key: value.detach().cpu().contiguous() for key, value in model.state_dict().items()}
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as temp:
        save_file(tensors, str(temp), metadata=metadata)
        os.chmod(temp, 0o666 & ~_current_umask())  # the writer creates owner-only files


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def load_model(
    path: str | os.PathLike, device: str | torch.device = "cpu", **config_overrides: Any
) -> LoadedModel:
    """Rebuild a model from a framepred safetensors file or an official DMVFN ``.pkl``/``.pth``
    (a path, a name from :mod:`framepred.models.zoo` such as ``dmvfn-city``, or an http(s) URL).

    ``config_overrides`` change options that do not touch the weights (e.g. ``routing="all"``).
    """
    from framepred.engine.device import resolve_device
    from framepred.models.zoo import resolve_weights

    path = resolve_weights(path)  # a weights name or URL becomes a checked local file
    if not path.is_file():
        what = "is a folder" if path.is_dir() else "does not exist"
        raise CheckpointError(f"{path}: {what}; give the path of a checkpoint file ({_HINT})")
    if _is_safetensors(path):
        loaded = _load_framepred(path, config_overrides)
    else:
        loaded = _load_release(path, config_overrides)
    loaded.model.to(resolve_device(device))
    loaded.model.eval()
    return loaded


def _is_safetensors(path: Path) -> bool:
    # safetensors: an 8-byte little-endian header length, then a JSON header starting with "{".
    with open(path, "rb") as handle:
        head = handle.read(9)
    if len(head) < 9:
        return False
    (header_size,) = struct.unpack("<Q", head[:8])
    return head[8:9] == b"{" and header_size <= path.stat().st_size - 8


def _load_framepred(path: Path, overrides: dict[str, Any]) -> LoadedModel:
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(path), framework="pt", device="cpu") as handle:
            meta = dict(handle.metadata() or {})
            tensors = {key: handle.get_tensor(key) for key in handle.keys()}  # noqa: SIM118
    except (SafetensorError, OSError, ValueError) as error:
        raise CheckpointError(
            f"{path}: damaged safetensors file ({error}); re-create or re-download it"
        ) from error
    name = meta.get(_KEY_MODEL)
    if name is None:
        raise CheckpointError(
            f"{path}: a safetensors file without framepred metadata (no model name); {_HINT}"
        )
    colour_order = meta.get(_KEY_COLOUR, "RGB")
    if colour_order not in COLOUR_ORDERS:
        raise CheckpointError(
            f"{path}: unknown colour order {colour_order!r} in its metadata; expected RGB or BGR"
        )
    try:
        model_entry(name)
        config = json.loads(meta.get(_KEY_CONFIG, "{}"))
        model = create_model(name, **{**config, **overrides})
    except json.JSONDecodeError as error:
        raise CheckpointError(f"{path}: its config metadata is not valid JSON; re-create the file") from error
    except FramepredError as error:
        raise CheckpointError(f"{path}: cannot rebuild model {name!r}: {error}") from error
    load_weights(model, tensors, path, f"framepred {name!r} checkpoint")
    return LoadedModel(model, name, colour_order, {"format": "framepred", **meta})


def _load_release(path: Path, overrides: dict[str, Any]) -> LoadedModel:
    state = read_state_dict(path)
    list_models()  # every family registers its release formats on import
    for release in _RELEASE_FORMATS:
        if release.claims(state):
            return release.build(state, path, overrides)
    names = " or ".join(r.name for r in _RELEASE_FORMATS) or "known release"
    example = next(iter(state), "none")
    raise CheckpointError(f"{path}: not a {names} (its weights are named like {example!r}); {_HINT}")


def read_state_dict(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """The tensors of a released state dict, ``module.`` prefix removed. Never runs pickled code."""
    path = Path(path)
    try:
        with warnings.catch_warnings():  # torch warns about pickle protocols it is about to refuse anyway
            warnings.simplefilter("ignore", UserWarning)
            state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        # The safe unpickler names the class or function it would have had to import ("global").
        if "global" in str(error).lower():
            raise CheckpointError(
                f"{path}: refused: it contains pickled Python objects besides tensors, and loading "
                f"them could run code; only plain state dicts are read ({_HINT})"
            ) from None
        raise CheckpointError(
            f"{path}: not a checkpoint, or a damaged one (only plain dicts of tensors are read); {_HINT}"
        ) from None
    except Exception as error:  # a damaged file can make the unpickler fail in any way
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise CheckpointError(
            f"{path}: damaged or not a checkpoint ({first_line}); re-download it or {_HINT}"
        ) from None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckpointError(
            f"{path}: holds {type(state).__name__} data, not a plain dict of tensors; {_HINT}"
        )
    if state and all(str(key).startswith("module.") for key in state):
        state = {str(key)[len("module.") :]: value for key, value in state.items()}
    return state


def load_weights(model: nn.Module, tensors: dict[str, torch.Tensor], path: Path, what: str) -> None:
    """Strict load with an error that says which keys or shapes do not fit."""
    expected = model.state_dict()
    missing = [key for key in expected if key not in tensors]
    unexpected = [key for key in tensors if key not in expected]
    if missing or unexpected:
        details = []
        if missing:
            details.append(f"{len(missing)} of its {len(expected)} weights are missing (e.g. {missing[0]})")
        if unexpected:
            details.append(f"{len(unexpected)} are unexpected (e.g. {unexpected[0]})")
        raise CheckpointError(f"{path}: not a {what}: {'; '.join(details)}; {_HINT} made for this model")
    for key, value in expected.items():
        if tensors[key].shape != value.shape:
            raise CheckpointError(
                f"{path}: weight {key} has shape {tuple(tensors[key].shape)} but the model needs "
                f"{tuple(value.shape)}; the file was made for another configuration of the model"
            )
    model.load_state_dict(tensors, strict=True)
