"""`framepred demo`: synthetic data, a small model trained for a few minutes, scored against baselines."""

from __future__ import annotations

from pathlib import Path

import typer


def command(
    model: str = typer.Option("dmvfn", "--model", "-m", help="Which family's demo (dmvfn, msgan, fusion)."),
    out: Path = typer.Option(Path("runs/demo"), "--out", "-o", help="Folder for data, run, GIF and scores."),
    steps: int = typer.Option(
        None, "--steps", help="Training steps (default: the demo's, a few CPU minutes)."
    ),
    minutes: float = typer.Option(None, "--minutes", help="Stop training early after this many minutes."),
    threads: int = typer.Option(1, "--threads", help="CPU threads for torch (0: torch's default)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the data and of training."),
    device: str = typer.Option("cpu", "--device", help="auto, cpu, cuda or cuda:N."),
    json_output: bool = typer.Option(False, "--json", help="Print the scores as JSON on stdout."),
) -> None:
    """Prepare the built-in synthetic data, train a small model, evaluate it against the baselines."""
    from rich.table import Table

    from framepred.cli.console import console, info, print_json, warn
    from framepred.demo import DemoOptions, run_demo

    options = DemoOptions(
        out=out, steps=steps, max_minutes=minutes, seed=seed, device=device, threads=threads or None
    )
    result = run_demo(model, options)
    table = Table(title=result.title)
    metrics = list(next(iter(result.rows.values())))
    table.add_column("model")
    for metric in metrics:
        name, _, step = metric.partition(" ")  # e.g. "psnr t+1"
        decibels = name in ("psnr", "sharpness")
        table.add_column(f"{name.upper()}{' (dB)' if decibels else ''} {step}".strip(), justify="right")
    for label, values in result.rows.items():
        cells = (
            f"{values[m]:.2f}" if m.startswith(("psnr", "sharpness")) else f"{values[m]:.4f}" for m in metrics
        )
        table.add_row(label, *cells)
    console.print(table)
    info("; ".join(f"{what}: {path}" for what, path in result.files.items()))
    if not result.beats_baselines:
        warn("the model did not beat the baselines this time; train longer with --steps / --minutes")
    if json_output:
        print_json(result.extra.get("json", result.rows))
