"""`framepred demo`: synthetic data, a small model trained for a few minutes, scored against baselines."""

from __future__ import annotations

from pathlib import Path

import typer

DECIBELS = ("psnr", "sharpness")  # metrics shown in dB with two decimals


def command(
    model: str = typer.Option(
        "dmvfn", "--model", "-m", help="Which family's demo (dmvfn, msgan, fusion, videogan)."
    ),
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
    for title, rows in [(result.title, result.rows), *result.tables]:
        table = Table(title=title)
        columns = list(next(iter(rows.values())))
        # a table whose title gives the unit (the per-step tables) has one metric in every column
        titled = "(dB)" in title
        table.add_column("model")
        for column in columns:
            name, _, step = column.partition(" ")  # e.g. "psnr", "psnr t+1", or "t+1" in a titled table
            unit = " (dB)" if name in DECIBELS else ""
            table.add_column(column if titled else f"{name.upper()}{unit} {step}".strip(), justify="right")
        for label, values in rows.items():
            decimals = [2 if titled or c.split(" ")[0] in DECIBELS else 4 for c in columns]
            table.add_row(label, *(f"{values[c]:.{d}f}" for c, d in zip(columns, decimals)))
        console.print(table)
    info("; ".join(f"{what}: {path}" for what, path in result.files.items()))
    if not result.beats_baselines:
        warn("the model did not beat the baselines this time; train longer with --steps / --minutes")
    if json_output:
        print_json(result.extra.get("json", result.rows))
