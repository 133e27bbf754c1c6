"""The model registry: families register by name; everything else looks them up here.

A registered model is an ``nn.Module`` built from one config dataclass (``model.config``) and
exposes the uniform prediction interface every caller relies on (``framepred.models.interface``):
``context_frames``, ``size_multiple``, ``predict(context)`` and, for models that generate several
frames jointly, ``frames_per_call`` and ``predict_many(context)``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from framepred.errors import UsageError


@dataclass(frozen=True)
class ModelEntry:
    name: str
    model_class: type
    config_class: type
    description: str
    trainable: bool
    small: dict[str, Any]  # options of a small instance: registry tests and smoke runs on a CPU


_REGISTRY: dict[str, ModelEntry] = {}


def register_model(
    name: str,
    config_class: type,
    description: str,
    trainable: bool = True,
    small: dict[str, Any] | None = None,
) -> Callable:
    """Class decorator: ``@register_model("dmvfn", DMVFNConfig, "...", small={"features": [8] * 9})``.

    ``small``: config options that make a small, fast instance (registry tests build it)."""

    def decorate(model_class: type) -> type:
        if name in _REGISTRY and _REGISTRY[name].model_class is not model_class:
            raise ValueError(f"model {name!r} is registered twice")
        _REGISTRY[name] = ModelEntry(
            name, model_class, config_class, description, trainable, dict(small or {})
        )
        model_class.registered_name = name
        return model_class

    return decorate


def _ensure_families_imported() -> None:
    # Importing the package registers every family (each module decorates its classes).
    import framepred.models  # noqa: F401
    from framepred.plugins import import_plugins

    import_plugins()


def list_models(trainable_only: bool = False) -> list[str]:
    """Names of every registered model, sorted."""
    _ensure_families_imported()
    return sorted(n for n, e in _REGISTRY.items() if e.trainable or not trainable_only)


def model_entry(name: str) -> ModelEntry:
    _ensure_families_imported()
    if name not in _REGISTRY:
        known = ", ".join(sorted(_REGISTRY))
        raise UsageError(f"unknown model {name!r}: choose one of {known}")
    return _REGISTRY[name]


def check_options(kind: str, name: str, config_class: type, options: dict[str, Any]) -> None:
    """Refuse keyword options that ``config_class`` (a dataclass) does not have, listing the ones it has."""
    fields = {f.name for f in dataclasses.fields(config_class)}
    unknown = sorted(set(options) - fields)
    if unknown:
        raise UsageError(
            f"{kind} {name!r} has no option(s) {', '.join(unknown)}; "
            f"its options are {', '.join(sorted(fields))}"
        )


def model_config(name: str, **config: Any) -> Any:
    """The config of a registered model: its defaults, overridden (and checked) by keyword arguments."""
    entry = model_entry(name)
    check_options("model", name, entry.config_class, config)
    return entry.config_class(**config)


def create_model(name: str, **config: Any) -> Any:
    """Build a registered model with default config, overridden by keyword arguments."""
    return model_entry(name).model_class(model_config(name, **config))
