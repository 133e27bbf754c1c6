"""`framepred train NAME`: train a model family with its recipe, on one CPU or many GPUs, with exact resume.

The options below belong to the engine and are the same for every recipe; each recipe adds its own
(`framepred train NAME --help` lists them), parsed from the arguments this command does not know.
"""

from __future__ import annotations

from pathlib import Path

import typer

# Unknown options are the recipe's; --help is ours, so that it can list them.
CONTEXT_SETTINGS = {"allow_extra_args": True, "ignore_unknown_options": True, "help_option_names": []}


def command(
    ctx: typer.Context,
    task: str = typer.Argument("dmvfn", help="The recipe to train (a model family, e.g. dmvfn)."),
    data: Path = typer.Option(
        None, "--data", help="Frame tree (or `framepred clip` shards, where the recipe takes them)."
    ),
    steps: int = typer.Option(
        None, "--steps", help="Rounds (optimiser steps of the predicting network) to train for."
    ),
    epochs: int = typer.Option(None, "--epochs", help="Passes over the training clips (instead of --steps)."),
    batch_size: int = typer.Option(8, "--batch-size", "-b", help="Clips per process."),
    run_dir: Path = typer.Option(
        None, "--run-dir", help="Run directory (default: runs/train/<task>, numbered)."
    ),
    resume: bool = typer.Option(
        False, "--resume", help="Continue the run in --run-dir from its last checkpoint."
    ),
    init: str = typer.Option(
        None, "--init", help="Start from this checkpoint's weights (framepred or official)."
    ),
    stage: str = typer.Option(
        None, "--stage", help="Recipes trained in stages: which one, or all (default: all)."
    ),
    seed: int = typer.Option(1234, "--seed", help="Seed of every random draw."),
    device: str = typer.Option(None, "--device", help="auto, cpu, cuda or cuda:N (default: auto)."),
    amp: str = typer.Option("none", "--amp", help="Mixed precision: none, bf16 or fp16 (fp16: CUDA only)."),
    compile_model: bool = typer.Option(False, "--compile", help="torch.compile every trained network."),
    channels_last: bool = typer.Option(False, "--channels-last", help="channels_last memory format."),
    grad_clip: float = typer.Option(None, "--grad-clip", help="Clip each network's gradient norm to this."),
    ema: float = typer.Option(
        None, "--ema", help="Keep an EMA of the predicting network (decay, e.g. 0.999)."
    ),
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
    train_split: str = typer.Option(None, "--train-split", help="Split to train on (default: train)."),
    val_split: str = typer.Option(
        None, "--val-split", help="Split to validate on (default: val; test = no best)."
    ),
    val_fraction: float = typer.Option(
        0.05, "--val-fraction", help="Training sequences held out when there is no val split."
    ),
    val_data: Path = typer.Option(None, "--val-data", help="Another frame tree to validate on."),
    val_samples: int = typer.Option(32, "--val-samples", help="Windows validated each time."),
    val_at_start: bool = typer.Option(
        False, "--val-at-start", help="Also validate before the first step (the untrained model)."
    ),
    time_limit: float = typer.Option(
        None, "--time-limit", help="Stop (validate, save) after this many minutes."
    ),
    log_every: int = typer.Option(50, "--log-every", help="Steps between progress lines."),
    workers: int = typer.Option(0, "--workers", help="Data-loader worker processes."),
    json_output: bool = typer.Option(False, "--json", help="Print the final metrics as JSON on stdout."),
    show_help: bool = typer.Option(False, "--help", "-h", help="Show this message and the recipe's options."),
) -> None:
    """Train a model (e.g. dmvfn) on a frame tree, on one CPU or many GPUs, with exact resume."""
    from framepred.cli.console import info, print_json

    if show_help:
        _print_help(ctx, task)
        raise typer.Exit()

    from framepred.cli.recipe_options import parse_recipe_options
    from framepred.engine.config import TrainConfig
    from framepred.engine.launch import LaunchOptions, launch_training

    options = parse_recipe_options(task, ctx.args)
    config = TrainConfig(
        task=task, data=str(data or ""), run_dir=str(run_dir or ""), steps=steps, epochs=epochs,
        batch_size=batch_size, seed=seed, device=device or "auto", amp=amp, compile=compile_model,
        channels_last=channels_last, grad_clip=grad_clip, save_every=save_every, val_every=val_every,
        train_split=train_split, val_split=val_split, val_fraction=val_fraction,
        val_data=str(val_data) if val_data else None, val_samples=val_samples, val_at_start=val_at_start,
        log_every=log_every,
        num_workers=workers, max_minutes=time_limit, ema=ema, init=init, stage=stage, task_options=options,
    )  # fmt: skip
    launch = LaunchOptions(gpus, nproc, nnodes, node_rank, master_addr, master_port)
    overrides = {"steps": steps, "epochs": epochs, "device": device, "stage": stage}
    result = launch_training(config, resume, launch, overrides)
    if isinstance(result, int):
        if result != 0:
            raise typer.Exit(result)
        return
    info(f"done: {result.steps} steps; run directory {result.run_dir}")
    if json_output:
        print_json({"run_dir": str(result.run_dir), "steps": result.steps, **result.validation})


def _print_help(ctx: typer.Context, task: str) -> None:
    """The engine's options (typer's help), then the recipe's own, with their defaults."""
    from rich.console import Console
    from rich.table import Table

    from framepred.cli.recipe_options import format_default, recipe_options
    from framepred.tasks.registry import BUILTIN_RECIPES, list_tasks, task_class

    console = Console(highlight=False)  # help goes to stdout, as typer's own
    typer.echo(ctx.get_help())
    source = ctx.get_parameter_source("task")
    if source is not None and source.name == "DEFAULT":
        # Without a recipe name, stay fast: recipes import torch.
        names = ", ".join(BUILTIN_RECIPES)
        console.print(
            f"recipes: {names} (and FRAMEPRED_PLUGINS); `framepred train NAME --help` lists its options"
        )
        return
    recipe = task_class(task)
    table = Table(title=f"options of the {task!r} recipe", title_justify="left", box=None, pad_edge=False)
    for column in ("option", "default", ""):
        table.add_column(column, overflow="fold")
    for option in recipe_options(recipe.Options):
        flag = (
            f"{option.flag}/--no-{option.flag[2:]}"
            if option.kind is bool
            else f"{option.flag} {option.metavar()}"
        )
        table.add_row(flag, format_default(option.default), option.help)
    console.print(table)
    console.print(f"recipes: {', '.join(list_tasks())} (`framepred train NAME --help` for each)")
