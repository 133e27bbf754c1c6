"""Options several commands share, defined once so their names and help texts never drift apart."""

from __future__ import annotations

import typer

WEIGHTS = typer.Option(
    None,
    "--weights",
    "-w",
    help="Checkpoint: a .safetensors/.pkl/.pth file, a name (framepred weights list) or an http(s) URL.",
)
MODEL = typer.Option(
    None, "--model", help="A registered model instead of --weights (e.g. copy-last, linear)."
)
ROUTING = typer.Option(None, "--routing", help="DMVFN routing: sample (default), threshold or all.")
DEVICE = typer.Option("auto", "--device", help="auto, cpu, cuda or cuda:N.")
SEED = typer.Option(
    None,
    "--seed",
    help="Where random draws start (DMVFN's sampled routing, the noise of --samples; default: the "
    "model's seed).",
)
SHARD = typer.Option(
    None,
    "--shard",
    help="Do only task K of N (K/N, K from 0) of a job array, then merge. auto: from "
    "SLURM_ARRAY_TASK_ID/COUNT; auto/N: the index as given (SLURM_ARRAY_TASK_ID, JOB_COMPLETION_INDEX).",
)
PRECISION = typer.Option(
    "fp32", "--precision", help="fp32 (default) or bf16 (autocast: CPUs with AVX-512 BF16/AMX, GPUs)."
)
COMPILE = typer.Option(
    False, "--compile", help="torch.compile the network (the first batch of each frame size compiles)."
)
CUDA_GRAPHS = typer.Option(
    False, "--cuda-graphs", help="GPU: capture one CUDA graph per frame size and replay it (routing all)."
)
