"""Training recipes: what one round computes for a model family (networks, phases, losses, data, schedule).

Tasks register by name (``framepred.tasks.registry``), so the engine never branches on a model name.
Names are resolved on first use so that importing the registry (``framepred train --help``) stays light.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "Task": "framepred.tasks.base",
    "Phase": "framepred.tasks.base",
    "create_task": "framepred.tasks.registry",
    "list_tasks": "framepred.tasks.registry",
    "register_task": "framepred.tasks.registry",
    "task_class": "framepred.tasks.registry",
}

__all__ = list(_LAZY)


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'framepred.tasks' has no attribute {name!r}")
    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value
