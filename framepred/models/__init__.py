"""Bare networks, one file per family, and the registry that names them."""

from framepred.models import (
    baselines,  # noqa: F401  (registers copy-last, linear)
    dmvfn,  # noqa: F401  (registers dmvfn)
    dmvfn_release,  # noqa: F401  (reads the official DMVFN checkpoints)
    fusion,  # noqa: F401  (registers fusion)
    msgan,  # noqa: F401  (registers msgan)
    videogan,  # noqa: F401  (registers videogan)
)
from framepred.models.checkpoint import LoadedModel, load_model, save_model
from framepred.models.registry import create_model, list_models, model_entry, register_model

__all__ = [
    "LoadedModel",
    "create_model",
    "list_models",
    "load_model",
    "model_entry",
    "register_model",
    "save_model",
]
