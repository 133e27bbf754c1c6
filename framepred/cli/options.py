"""Options several commands share, defined once so their names and help texts never drift apart."""

from __future__ import annotations

import typer

WEIGHTS = typer.Option(
    None, "--weights", "-w", help="Checkpoint: framepred .safetensors or official .pkl/.pth."
)
MODEL = typer.Option(
    None, "--model", help="A registered model instead of --weights (e.g. copy-last, linear)."
)
ROUTING = typer.Option(None, "--routing", help="DMVFN routing: sample (default), threshold or all.")
DEVICE = typer.Option("auto", "--device", help="auto, cpu, cuda or cuda:N.")
SEED = typer.Option(
    None, "--seed", help="Where random draws start (DMVFN's sampled routing; default: the model's seed)."
)
