"""`framepred rollout`: many future frames, recursively, streamed to a folder, an .mp4 or a .gif."""

from __future__ import annotations

from pathlib import Path

import typer

from framepred.cli.options import COMPILE, CUDA_GRAPHS, DEVICE, MODEL, PRECISION, ROUTING, SEED, WEIGHTS


def command(
    context: list[Path] = typer.Argument(
        ..., help="Two or more images (oldest first), a frame folder, or a video."
    ),
    steps: int = typer.Option(..., "--steps", "-n", help="Number of future frames to predict."),
    output: Path = typer.Option(
        ..., "--output", "-o", help="A new folder (000001.png ...), an .mp4 or a .gif."
    ),
    weights: str = WEIGHTS,
    model: str = MODEL,
    start: int = typer.Option(
        None, "--start", help="Folder/video index of the first frame to predict (default: after the last)."
    ),
    compare: Path = typer.Option(None, "--compare", help="Folder or video of the real future frames."),
    compare_output: Path = typer.Option(
        None, "--compare-output", help="Side-by-side video (default: next to the output, *_compare.mp4)."
    ),
    fps: float = typer.Option(
        None, "--fps", help="Frame rate of written videos (default: the source's, else 10)."
    ),
    routing: str = ROUTING,
    seed: int = SEED,
    device: str = DEVICE,
    precision: str = PRECISION,
    compile: bool = COMPILE,
    cuda_graphs: bool = CUDA_GRAPHS,
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON on stdout."),
) -> None:
    """Predict many future frames recursively from context frames, a frame folder or a video."""
    from framepred.cli.console import info, print_json, progress
    from framepred.inference.allocator import tune_allocator
    from framepred.inference.loading import make_predictor
    from framepred.inference.rollout import rollout_job

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
    result = rollout_job(
        predictor, context, steps, output,
        start=start, fps=fps, compare=compare, compare_output=compare_output,
        progress=lambda items, total: progress(items, total=total, description="rolling out"),
    )  # fmt: skip
    if as_json:
        print_json(result)
        return
    compared = f"; side by side with the truth in {result['compare']}" if result["compare"] else ""
    info(f"wrote {steps} predicted frames to {output}{compared}")
