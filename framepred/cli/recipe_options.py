"""A recipe's own command-line options, built from its ``Options`` dataclass (see ``tasks/options.py``).

``framepred train NAME`` parses the engine's options itself and hands the rest here (to argparse):
one flag per field (``clip_frames`` -> ``--clip-frames``; bools as ``--x/--no-x``; optional values also take
``none``; dicts and lists as JSON). Only the flags given are returned, so unset fields keep the
recipe's defaults. The engine never sees a recipe option by name.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import types
import typing
from typing import Any

from framepred.errors import UsageError

_NONE = object()  # "none" given on the command line (None means "not given")


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise argparse.ArgumentTypeError(f"{text!r} is not valid JSON ({error})") from None


def _converter(kind: Any, optional: bool) -> Any:
    base = kind if kind in (int, float, str) else _json

    def convert(text: str) -> Any:
        if optional and text.lower() == "none":
            return _NONE
        return base(text)

    # argparse names the type in its message: "invalid int value: 'big'".
    convert.__name__ = base.__name__.strip("_")
    return convert


def _kind(annotation: Any) -> tuple[Any, bool]:
    """The field's base type and whether it is optional (``X | None``)."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        base, optional = (args[0] if len(args) == 1 else str), True
    else:
        base, optional = annotation, False
    return typing.get_origin(base) or base, optional


@dataclasses.dataclass(frozen=True)
class RecipeOption:
    field: str
    flag: str
    kind: Any
    optional: bool
    default: Any
    help: str

    def metavar(self) -> str:
        if self.kind is bool:
            return ""
        name = {int: "INT", float: "FLOAT", str: "TEXT"}.get(self.kind, "JSON")
        return f"{name}|none" if self.optional else name


def recipe_options(options_class: type) -> list[RecipeOption]:
    hints = typing.get_type_hints(options_class)
    found = []
    for f in dataclasses.fields(options_class):
        kind, optional = _kind(hints[f.name])
        default = f.default_factory() if f.default is dataclasses.MISSING else f.default  # type: ignore[misc]
        flag = f.metadata.get("flag") or "--" + f.name.replace("_", "-")
        found.append(RecipeOption(f.name, flag, kind, optional, default, f.metadata.get("help", "")))
    return found


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> typing.NoReturn:  # argparse would print and exit
        raise UsageError(message)


def parse_recipe_arguments(task: str, options_class: type, args: list[str]) -> dict[str, Any]:
    """The recipe options given in ``args`` (field name -> value); anything else is a UsageError."""
    parser = _Parser(prog=f"framepred train {task}", add_help=False, allow_abbrev=False)
    for option in recipe_options(options_class):
        if option.kind is bool:
            parser.add_argument(option.flag, dest=option.field, action=argparse.BooleanOptionalAction)
        else:
            parser.add_argument(option.flag, dest=option.field, type=_converter(option.kind, option.optional))
    try:
        namespace, extra = parser.parse_known_args(list(args))
    except (UsageError, argparse.ArgumentError) as error:
        raise UsageError(f"{error}; see `framepred train {task} --help`") from None
    if extra:
        raise UsageError(
            f"the {task!r} recipe has no option {extra[0]!r}; see `framepred train {task} --help`"
        )
    given = {name: value for name, value in vars(namespace).items() if value is not None}
    return {name: None if value is _NONE else value for name, value in given.items()}


def parse_recipe_options(task: str, args: list[str]) -> dict[str, Any]:
    """The options of recipe ``task`` among ``args``."""
    from framepred.tasks.registry import task_class

    return parse_recipe_arguments(task, task_class(task).Options, args)


def format_default(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if value is None:
        return "none"
    if isinstance(value, dict | list | tuple):
        return json.dumps(value)
    return str(value)
