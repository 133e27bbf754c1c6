"""The `framepred` command: one verb per job, global options, and the error boundary.

Command modules import nothing heavy at import time, so `framepred --help` never loads torch.
"""

from __future__ import annotations

import sys

import typer

from framepred import __version__
from framepred.cli import (
    clip,
    convert,
    demo,
    evaluate,
    export,
    predict,
    prepare,
    rollout,
    scrape,
    train,
    weights,
)
from framepred.cli.console import error_line, settings
from framepred.cli.errors import EXIT_USAGE, guarded, report_error
from framepred.errors import FramepredError

app = typer.Typer(
    name="framepred",
    help="Video frame prediction: prepare data, train, predict, roll out and evaluate.",
    no_args_is_help=True,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,
)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"framepred {__version__}")
        raise typer.Exit()


@app.callback()
def global_options(
    verbose: int = typer.Option(0, "--verbose", "-v", count=True, help="More detail (repeat for more)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only errors and results."),
    debug: bool = typer.Option(False, "--debug", help="Show full tracebacks on errors."),
    version: bool = typer.Option(
        False, "--version", callback=_show_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Video frame prediction: prepare data, train, predict, roll out and evaluate."""
    settings.verbosity = -1 if quiet else verbose
    settings.debug = debug


app.add_typer(prepare.prepare_app, name="prepare")
app.add_typer(weights.weights_app, name="weights")
for name, module in [
    ("clip", clip),
    ("train", train),
    ("predict", predict),
    ("rollout", rollout),
    ("evaluate", evaluate),
    ("scrape", scrape),
    ("convert", convert),
    ("export", export),
    ("demo", demo),
]:
    app.command(name, context_settings=getattr(module, "CONTEXT_SETTINGS", None))(guarded(module.command))


def main() -> None:
    """Console-script entry point."""
    try:
        app(prog_name="framepred")
    except FramepredError as error:  # raised outside a command body (e.g. while parsing)
        report_error(error)
        sys.exit(EXIT_USAGE)
    except KeyboardInterrupt:
        error_line("interrupted")
        sys.exit(130)
