"""`framepred train`: train a model family on a frame tree, on one CPU or many GPUs, with exact resume."""

from __future__ import annotations

from pathlib import Path

import typer


def command(
    task: str = typer.Argument("dmvfn", help="What to train (a model family with a recipe, e.g. dmvfn)."),
    data: Path = typer.Option(None, "--data", help="Frame tree (ROOT/<split>/<sequence>/000000.png)."),
    steps: int = typer.Option(None, "--steps", help="Optimiser steps to train for."),
    epochs: int = typer.Option(None, "--epochs", help="Passes over the training clips (instead of --steps)."),
    batch_size: int = typer.Option(8, "--batch-size", "-b", help="Clips per process."),
    crop: int = typer.Option(None, "--crop", help="Random square crop side (default: 256)."),
    clip_frames: int = typer.Option(
        None, "--clip-frames", help="Frames per training clip (default: the recipe's, 10 for dmvfn)."
    ),
    lr: float = typer.Option(
        None, "--lr", help="Peak learning rate; start and end become lr/10 (default: 1e-4)."
    ),
    warmup: int = typer.Option(
        None, "--warmup", help="Warm-up length in data-loader batches (default: 2000)."
    ),
    run_dir: Path = typer.Option(
        None, "--run-dir", help="Run directory (default: runs/train/<task>, numbered)."
    ),
    resume: bool = typer.Option(
        False, "--resume", help="Continue the run in --run-dir from its last checkpoint."
    ),
    seed: int = typer.Option(1234, "--seed", help="Seed of every random draw."),
    device: str = typer.Option(None, "--device", help="auto, cpu, cuda or cuda:N (default: auto)."),
    amp: str = typer.Option("none", "--amp", help="Mixed precision: none, bf16 or fp16 (fp16: CUDA only)."),
    compile_model: bool = typer.Option(False, "--compile", help="torch.compile the model."),
    channels_last: bool = typer.Option(False, "--channels-last", help="channels_last memory format."),
    grad_clip: float = typer.Option(None, "--grad-clip", help="Clip the gradient norm to this value."),
    gpus: int = typer.Option(None, "--gpus", help="Run N processes with DDP on N GPUs (NCCL)."),
    nproc: int = typer.Option(None, "--nproc", help="Run N processes with DDP on the CPU (gloo)."),
    nnodes: int = typer.Option(1, "--nnodes", help="Machines in a multi-node run."),
    node_rank: int = typer.Option(0, "--node-rank", help="This machine's rank in a multi-node run."),
    master_addr: str = typer.Option(None, "--master-addr", help="Address of the rank-0 machine."),
    master_port: int = typer.Option(
        None, "--master-port", help="Port on the rank-0 machine (default: 29500)."
    ),
    save_every: int = typer.Option(1000, "--save-every", help="Steps between checkpoints."),
    val_every: int = typer.Option(1000, "--val-every", help="Steps between validations."),
    val_split: str = typer.Option(
        None, "--val-split", help="Split held out for validation (default: val, else test)."
    ),
    val_samples: int = typer.Option(32, "--val-samples", help="Triplets validated each time."),
    time_limit: float = typer.Option(
        None, "--time-limit", help="Stop (validate, save) after this many minutes."
    ),
    log_every: int = typer.Option(50, "--log-every", help="Steps between progress lines."),
    workers: int = typer.Option(0, "--workers", help="Data-loader worker processes."),
    no_perceptual: bool = typer.Option(
        False, "--no-perceptual", help="Train without the VGG perceptual loss."
    ),
    vgg_weights: Path = typer.Option(
        None, "--vgg-weights", help="vgg19-dcbb9e9d.pth (default: from the torch hub cache)."
    ),
    model_config: str = typer.Option(
        None, "--model-config", help='Model options as JSON, e.g. \'{"routing": "all"}\'.'
    ),
    json_output: bool = typer.Option(False, "--json", help="Print the final metrics as JSON on stdout."),
) -> None:
    """Train a model (e.g. dmvfn) on a frame tree, on one CPU or many GPUs, with exact resume."""
    from framepred.cli.console import info, print_json
    from framepred.engine.config import TrainConfig
    from framepred.engine.launch import LaunchOptions, launch_training, recipe_options

    options = recipe_options(crop, clip_frames, lr, warmup, no_perceptual, vgg_weights, model_config)
    config = TrainConfig(
        task=task, data=str(data or ""), run_dir=str(run_dir or ""), steps=steps, epochs=epochs,
        batch_size=batch_size, seed=seed, device=device or "auto", amp=amp, compile=compile_model,
        channels_last=channels_last, grad_clip=grad_clip, save_every=save_every, val_every=val_every,
        val_split=val_split, val_samples=val_samples, log_every=log_every, num_workers=workers,
        max_minutes=time_limit, task_options=options,
    )  # fmt: skip
    launch = LaunchOptions(gpus, nproc, nnodes, node_rank, master_addr, master_port)
    result = launch_training(config, resume, launch, {"steps": steps, "epochs": epochs, "device": device})
    if isinstance(result, int):
        if result != 0:
            raise typer.Exit(result)
        return
    info(f"done: {result.steps} steps; run directory {result.run_dir}")
    if json_output:
        print_json({"run_dir": str(result.run_dir), "steps": result.steps, **result.validation})
