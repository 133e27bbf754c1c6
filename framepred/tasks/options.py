"""Recipe options: a dataclass field with a help text, from which `framepred train NAME` builds its flags.

Each field of a recipe's ``Options`` dataclass becomes one command-line option named after it
(``clip_frames`` -> ``--clip-frames``; a bool ``perceptual`` -> ``--perceptual/--no-perceptual``), with
the field's default and help. ``option(..., flag="--model-config")`` picks another flag name.
"""

from __future__ import annotations

from dataclasses import field
from typing import Any


def option(default: Any, help: str, flag: str | None = None) -> Any:  # noqa: A002  (click's word)
    """A recipe option: its default, a one-line help text, and optionally its flag name."""
    metadata = {"help": help, "flag": flag}
    if isinstance(default, dict | list):
        return field(default_factory=lambda: type(default)(default), metadata=metadata)
    return field(default=default, metadata=metadata)
