"""Models and recipes from outside framepred: the modules named in ``FRAMEPRED_PLUGINS``.

``FRAMEPRED_PLUGINS=mylab.models,mylab.recipes framepred train mine`` imports those modules (which
register their models with ``register_model`` and their recipes with ``register_task``) before any
registry is read, in every process, the ones ``--nproc``/``--gpus`` start included.
"""

from __future__ import annotations

import importlib
import os

from framepred.errors import UsageError

PLUGINS_VARIABLE = "FRAMEPRED_PLUGINS"


def import_plugins() -> None:
    for module in filter(None, (m.strip() for m in os.environ.get(PLUGINS_VARIABLE, "").split(","))):
        try:
            importlib.import_module(module)
        except ImportError as error:
            raise UsageError(
                f"{PLUGINS_VARIABLE} names {module!r}, which cannot be imported ({error}); fix the variable"
            ) from error
