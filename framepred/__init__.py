"""framepred: video frame prediction.

The public Python API. Heavy modules (torch) are imported lazily on first use so that
`import framepred` and `framepred --help` stay fast.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# name -> module that defines it; resolved on first attribute access.
_LAZY = {
    "create_model": "framepred.models",
    "list_models": "framepred.models",
    "load_model": "framepred.models",
    "Predictor": "framepred.inference",
    "metrics": "framepred.metrics",
    "FramepredError": "framepred.errors",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'framepred' has no attribute {name!r}")
    module = importlib.import_module(module_name)
    value = module if module_name.endswith(name) else getattr(module, name)
    globals()[name] = value
    return value
