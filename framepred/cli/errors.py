"""The error boundary: framepred errors become one line on stderr and exit code 2."""

from __future__ import annotations

import functools
import traceback
from collections.abc import Callable
from typing import Any

import typer

from framepred.cli.console import console, error_line, settings
from framepred.errors import FramepredError

EXIT_USAGE = 2


def report_error(error: BaseException) -> None:
    if settings.debug:
        console.print(traceback.format_exc(), markup=False, highlight=False)
    error_line(str(error))


def guarded(command: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a command so expected failures end in one clear line and exit code 2."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except FramepredError as error:
            report_error(error)
            raise typer.Exit(EXIT_USAGE) from None
        except KeyboardInterrupt:
            error_line("interrupted; completed output is kept, nothing half-written was left behind")
            raise typer.Exit(130) from None

    return run
