"""`framepred export`: a model as one ONNX or TorchScript file (dynamic batch, height and width)."""

from __future__ import annotations

from pathlib import Path

import typer

from framepred.cli.options import MODEL, WEIGHTS


def command(
    output: Path = typer.Option(..., "--output", "-o", help="The file to write: model.onnx or model.pt."),
    export_format: str = typer.Option(None, "--format", help="onnx or torchscript (default: from -o)."),
    weights: str = WEIGHTS,
    model: str = MODEL,
    routing: str = typer.Option(
        None, "--routing", help="DMVFN: all (default; sample and threshold cannot be one graph)."
    ),
    blocks: str = typer.Option(
        None, "--blocks", help="DMVFN: run only these blocks, a fixed gate mask, e.g. 0,1,2,4,6,8."
    ),
    opset: int = typer.Option(18, "--opset", help="ONNX opset version."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON on stdout."),
) -> None:
    """Export a checkpoint as ONNX or TorchScript: frames B x 3T x H x W RGB in [0, 1] -> next frame."""
    from framepred.cli.console import info, print_json
    from framepred.inference.export import export_model, format_from_suffix, parse_blocks

    result = export_model(
        output, export_format or format_from_suffix(output), weights=weights, model=model,
        routing=routing, blocks=parse_blocks(blocks), opset=opset,
    )  # fmt: skip
    if as_json:
        print_json(result)
    else:
        info(
            f"wrote {output} ({result['format']}, {result['model']}); input {result['input']}; "
            f"output within {result['max_difference_grey_levels']:.3f} grey levels of PyTorch"
        )
