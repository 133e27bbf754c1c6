"""`framepred predict`: the next frame from two frames, or for every consecutive pair of a folder;
a video for models that predict several frames at once, or sample videos from noise."""

from __future__ import annotations

from pathlib import Path

import typer

from framepred.cli.options import COMPILE, CUDA_GRAPHS, DEVICE, MODEL, PRECISION, ROUTING, SEED, WEIGHTS


def command(
    images: list[Path] = typer.Argument(
        None, help="Context images, oldest first (as many as the model reads: DMVFN 2, msgan 4, VideoGAN 1)."
    ),
    output: Path = typer.Option(
        None,
        "--output",
        "-o",
        help="Output image (a folder with --input-dir; a .gif/.mp4/folder for videos).",
    ),
    weights: str = WEIGHTS,
    model: str = MODEL,
    input_dir: Path = typer.Option(
        None, "--input-dir", help="Predict from every consecutive pair of this folder."
    ),
    compare: bool = typer.Option(
        False, "--compare", help="Also write the model's streams side by side (*_compare), e.g. VideoGAN's."
    ),
    samples: int = typer.Option(None, "--samples", help="Generate this many videos from noise into -o DIR."),
    fps: float = typer.Option(None, "--fps", help="Frame rate of written videos (default 10)."),
    routing: str = ROUTING,
    seed: int = SEED,
    device: str = DEVICE,
    batch_size: int = typer.Option(1, "--batch-size", help="With --input-dir: windows run as one batch."),
    precision: str = PRECISION,
    compile: bool = COMPILE,
    cuda_graphs: bool = CUDA_GRAPHS,
    as_json: bool = typer.Option(False, "--json", help="Print the written files as JSON on stdout."),
) -> None:
    """Predict the next frame from the model's context frames (DMVFN: two) with a checkpoint, the
    future video of one image (VideoGAN), or sample videos from noise (--samples)."""
    from framepred.cli.console import info, print_json, progress
    from framepred.inference.allocator import tune_allocator
    from framepred.inference.loading import make_predictor
    from framepred.inference.predict_files import predict_files

    tune_allocator()  # keep freed memory: no page faults per frame (FRAMEPRED_MALLOC_TUNE=0: off)

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
        compare=compare, samples=samples, seed=seed, fps=fps,
    )  # fmt: skip
    if as_json:
        print_json(records)
    else:
        info(f"wrote {len(records)} prediction(s) to {output}")
