"""Data: the frame tree, data-set preparation, synthetic data, clips and datasets."""

from __future__ import annotations

import importlib
from typing import Any

# name -> module that defines it; imported on first use so `import framepred.data` stays light (no torch).
_LAZY = {
    "ShardDataset": "framepred.data.shard_dataset",
    "extract_clips": "framepred.data.clips",
}


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'framepred.data' has no attribute {name!r}")
    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value
