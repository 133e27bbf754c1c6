"""Bare networks, one file per family, and the registry that names them."""

from framepred.models import baselines  # noqa: F401  (registers copy-last, linear)
from framepred.models.registry import create_model, list_models, model_entry, register_model

__all__ = ["create_model", "list_models", "model_entry", "register_model"]
