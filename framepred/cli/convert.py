"""`framepred convert`: an official DMVFN checkpoint into framepred's safetensors format."""

from __future__ import annotations

from pathlib import Path

import typer


def command(
    checkpoint: str = typer.Argument(
        ..., help="Official DMVFN checkpoint (.pkl/.pth, a name such as dmvfn-city, or a URL)."
    ),
    output: Path = typer.Option(..., "--output", "-o", help="The framepred file to write (.safetensors)."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON on stdout."),
) -> None:
    """Convert an official checkpoint (.pkl/.pth) into framepred's safetensors format."""
    from framepred.cli.console import info, print_json
    from framepred.inference.convert import convert_checkpoint

    result = convert_checkpoint(checkpoint, output)
    if as_json:
        print_json(result)
    else:
        facts = (
            f"{result['model']}, {result['parameters']:,} parameters, expects {result['colour_order']} input"
        )
        info(f"wrote {output}: {facts}")
