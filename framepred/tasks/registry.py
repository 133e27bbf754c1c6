"""The task registry: ``@register_task("dmvfn")`` on a Task subclass, ``create_task(name, **options)``.

Recipes outside framepred register the same way from the modules named in ``FRAMEPRED_PLUGINS``
(see ``framepred.plugins``).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from framepred.errors import UsageError
from framepred.plugins import import_plugins

_TASKS: dict[str, type] = {}
# name -> the module whose import registers it (imported when first asked for).
BUILTIN_RECIPES = {
    "dmvfn": "framepred.tasks.dmvfn",
    "msgan": "framepred.tasks.msgan",
    "fusion": "framepred.tasks.fusion",
    "videogan": "framepred.tasks.videogan",
}


def register_task(name: str) -> Callable[[type], type]:
    def decorate(cls: type) -> type:
        if name in _TASKS and _TASKS[name] is not cls:
            raise ValueError(f"task {name!r} is registered twice")
        _TASKS[name] = cls
        cls.name = name
        return cls

    return decorate


def _ensure_tasks_imported(name: str | None = None) -> None:
    modules = [BUILTIN_RECIPES[name]] if name in BUILTIN_RECIPES else BUILTIN_RECIPES.values()
    for module in modules:
        importlib.import_module(module)
    if name not in BUILTIN_RECIPES:
        import_plugins()


def list_tasks() -> list[str]:
    _ensure_tasks_imported()
    return sorted(_TASKS)


def task_class(name: str) -> type:
    _ensure_tasks_imported(name)
    if name not in _TASKS:
        raise UsageError(f"no training recipe for {name!r}: choose one of {', '.join(list_tasks())}")
    return _TASKS[name]


def create_task(name: str, stage: str | None = None, **options: Any) -> Any:
    """Build a task with its default options, overridden by keyword arguments; ``stage`` picks the
    stage a recipe trained in stages trains (default: its first)."""
    from framepred.models.registry import check_options

    cls = task_class(name)
    check_options("task", name, cls.Options, options)
    task = cls(cls.Options(**options))
    if stage is not None:
        if not cls.stages:
            raise UsageError(f"the {name!r} recipe trains in one stage; drop --stage")
        if stage not in cls.stages:
            raise UsageError(
                f"the {name!r} recipe has no stage {stage!r}: choose one of {', '.join(cls.stages)} or all"
            )
        task.stage = stage
    return task
