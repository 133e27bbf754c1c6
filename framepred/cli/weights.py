"""`framepred weights`: the named weights (official DMVFN releases, the bundled model) and their cache."""

from __future__ import annotations

import typer

from framepred.cli.console import console, info, print_json, settings, warn
from framepred.cli.errors import guarded

weights_app = typer.Typer(
    help="Named weights: list them, download them, show where their files are.", no_args_is_help=True
)
JSON = typer.Option(False, "--json", help="Print the result as JSON on stdout.")


def _size(size: int | None) -> str:
    return "-" if size is None else f"{size / 1e6:.1f} MB"


@weights_app.command("list")
@guarded
def list_command(as_json: bool = JSON) -> None:
    """Every name: source, licence, size, whether it is on disk, its SHA-256."""
    from rich import box
    from rich.table import Table

    from framepred.models.zoo import list_weights, weights_dir

    rows = list_weights()
    if as_json:
        print_json(rows)
        return
    if settings.verbosity < 0:
        return
    table = Table(title=f"weights (cache: {weights_dir()})", box=box.SIMPLE)
    for column in ("name", "source", "licence", "size", "cached", "sha256"):
        table.add_column(column, no_wrap=True)
    for row in rows:
        cached = "yes" if row["cached"] else "no"
        table.add_row(
            row["name"],
            row["source"],
            row["licence"],
            _size(row["size"]),
            cached,
            (row["sha256"] or "-")[:12],
        )
    console.print(table)


@weights_app.command("download")
@guarded
def download_command(
    names: list[str] = typer.Argument(..., help="Weights names (see `framepred weights list`) or URLs."),
    force: bool = typer.Option(
        False, "--force", help="Download again and record the new SHA-256, even if a file is cached."
    ),
    as_json: bool = JSON,
) -> None:
    """Download (or check the cached copy of) each named file."""
    from framepred.models.zoo import download_weights

    results = [download_weights(name, force=force, announce=info) for name in names]
    if as_json:
        print_json(results)
        return
    for result in results:
        info(f"{result['name']}: {result['path']} ({_size(result['size'])}, SHA-256 {result['sha256']})")


@weights_app.command("path")
@guarded
def path_command(name: str = typer.Argument(..., help="A weights name."), as_json: bool = JSON) -> None:
    """Print where a name's file is, or where to put it when downloading it by hand."""
    from framepred.models.zoo import named_entry, weights_info

    row = weights_info(named_entry(name))
    if as_json:
        print_json({key: row[key] for key in ("name", "path", "cached", "sha256")})
        return
    if not row["cached"]:
        warn(f"{name} is not downloaded yet: `framepred weights download {name}`, or put the file here")
    typer.echo(row["path"])
