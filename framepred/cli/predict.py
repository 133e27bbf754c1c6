"""`framepred predict`: the next frame from two frames, or for every consecutive pair of a folder."""

from __future__ import annotations

from pathlib import Path

import typer

from framepred.cli.options import COMPILE, CUDA_GRAPHS, DEVICE, MODEL, PRECISION, ROUTING, SEED, WEIGHTS


def command(
    images: list[Path] = typer.Argument(
        None, help="Context images, oldest first (as many as the model reads: DMVFN 2, msgan 4)."
    ),
    output: Path = typer.Option(None, "--output", "-o", help="Output image (a folder with --input-dir)."),
    weights: str = WEIGHTS,
    model: str = MODEL,
    input_dir: Path = typer.Option(
        None, "--input-dir", help="Predict from every consecutive pair of this folder."
    ),
    routing: str = ROUTING,
    seed: int = SEED,
    device: str = DEVICE,
    batch_size: int = typer.Option(1, "--batch-size", help="With --input-dir: windows run as one batch."),
    precision: str = PRECISION,
    compile: bool = COMPILE,
    cuda_graphs: bool = CUDA_GRAPHS,
    as_json: bool = typer.Option(False, "--json", help="Print the written files as JSON on stdout."),
) -> None:
    """Predict the next frame from the model's context frames (DMVFN: two) with a checkpoint."""
    from framepred.cli.console import info, print_json, progress
    from framepred.inference.loading import make_predictor
    from framepred.inference.predict_files import predict_files

    predictor = make_predictor(
        weights,
        model,
        routing,
        device,
        seed,
        announce=info,
        precision=precision,
        compile=compile,
        cuda_graphs=cuda_graphs,
    )
    records = predict_files(
        predictor, images or [], output, input_dir, batch_size=batch_size,
        progress=lambda items, total: progress(items, total=total, description="predicting"),
    )  # fmt: skip
    if as_json:
        print_json(records)
    else:
        info(f"wrote {len(records)} prediction(s) to {output}")
