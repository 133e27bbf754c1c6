"""`framepred demo`: synthetic data, a small DMVFN trained for about two minutes, scored against copy-last."""

from __future__ import annotations

from pathlib import Path

import typer


def command(
    out: Path = typer.Option(Path("runs/demo"), "--out", "-o", help="Folder for data, run, GIF and scores."),
    steps: int = typer.Option(600, "--steps", help="Optimiser steps (about two minutes on two CPU cores)."),
    minutes: float = typer.Option(2.0, "--minutes", help="Stop training early after this many minutes."),
    threads: int = typer.Option(1, "--threads", help="CPU threads for torch (0: torch's default)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the data and of training."),
    device: str = typer.Option("cpu", "--device", help="auto, cpu, cuda or cuda:N."),
    json_output: bool = typer.Option(False, "--json", help="Print the scores as JSON on stdout."),
) -> None:
    """Prepare the built-in synthetic data, train a small DMVFN, evaluate it against copy-last."""
    from rich.table import Table

    from framepred.cli.console import console, info, print_json, warn
    from framepred.engine.demo import DemoOptions, run_demo

    summary = run_demo(
        DemoOptions(
            out=out, steps=steps, max_minutes=minutes, seed=seed, device=device, threads=threads or None
        )
    )
    table = Table(title=f"next-frame scores on the synthetic test split ({summary['test_windows']} windows)")
    table.add_column("model")
    table.add_column("PSNR (dB)", justify="right")
    table.add_column("SSIM", justify="right")
    for name, label in (("model", f"dmvfn ({summary['steps']} steps)"), ("copy-last", "copy-last")):
        table.add_row(label, f"{summary[name]['psnr']:.2f}", f"{summary[name]['ssim']:.4f}")
    console.print(table)
    info(f"rollout (prediction | truth): {summary['rollout']}; training run: {summary['run_dir']}")
    if summary["model"]["psnr"] <= summary["copy-last"]["psnr"]:
        warn("the model did not beat copy-last this time; train longer with --steps / --minutes")
    if json_output:
        print_json({"model": summary["model"], "copy-last": summary["copy-last"]})
