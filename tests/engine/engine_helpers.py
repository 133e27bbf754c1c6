"""A tiny frame tree of moving squares, for engine tests (real files, real decoding)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from framepred.data.tree import SequenceWriter

TINY_MODEL = {"features": [8, 8, 8, 8, 8, 8, 8, 8, 8], "routing": "sample"}


def moving_squares_tree(
    root: Path,
    sequences: int = 3,
    frames: int = 8,
    size: int = 72,
    val: bool = True,
    splits: dict[str, int] | None = None,
) -> Path:
    """``sequences`` training sequences and one val sequence, or the sequences per split of ``splits``."""
    rng = np.random.default_rng(0)
    if splits is None:
        splits = {"train": sequences, **({"val": 1} if val else {})}
    for split, count in splits.items():
        for s in range(count):
            y, x = rng.integers(8, size - 24, 2)
            dy, dx = rng.integers(-3, 4, 2)
            colour = rng.integers(60, 256, 3)
            background = rng.integers(0, 60, (size, size, 3)).astype(np.uint8)
            with SequenceWriter(root, split, f"{split}{s}") as writer:
                for t in range(frames):
                    frame = background.copy()
                    top, left = int(y + dy * t), int(x + dx * t)
                    frame[max(top, 0) : top + 16, max(left, 0) : left + 16] = colour
                    writer.write(frame)
    return root


def tiny_options(**extra) -> dict:
    options = {
        "clip_frames": 4,
        "crop": 64,
        "perceptual": False,
        "warmup": 3,
        "lr": 1e-3,
        "model": dict(TINY_MODEL),
    }
    options.update(extra)
    return options


def tiny_config(tree: Path, run_dir: Path, **extra):
    from framepred.engine.config import TrainConfig

    options = tiny_options(model={**TINY_MODEL, "routing": "all"})
    values = dict(
        task="dmvfn",
        data=str(tree),
        run_dir=str(run_dir),
        steps=1,
        batch_size=2,
        device="cpu",
        seed=7,
        task_options=options,
    )
    values.update(extra)
    return TrainConfig(**values)


def first_round_gradients(config, out: Path) -> None:
    """Build the engine's Trainer (DDP when WORLD_SIZE > 1), run every phase of the first round on this
    rank's first batch as the loop does (backward, then the optimizer step), and save each phase's
    gradients of the network it trains (rank 0 only): ``{phase: {parameter: gradient}}``."""
    import torch

    from framepred.engine import distributed
    from framepred.engine.trainer import Trainer

    info = distributed.from_environment()
    device = torch.device("cpu")
    distributed.init_process_group(info, device)
    try:
        trainer = Trainer(config, info, device, resume=False)
        batch = trainer._epoch_batches(0)[0]
        clips = torch.stack([trainer.dataset[(0, i)] for i in batch]).float() / 255
        inputs = next(trainer.task.step_inputs(clips))
        trainer.nets.set_learning_rates(trainer.task.learning_rates(0, trainer.total_iterations))
        grads = {}
        for phase in trainer.phases:
            if phase.due(0):
                loss, _ = phase.loss(trainer.nets.view(phase.trains), inputs, 0)
                trainer.nets.update(phase.trains, loss, None)
                network = trainer.nets.bare[phase.trains]
                grads[phase.name] = {
                    n: p.grad.clone() for n, p in network.named_parameters() if p.grad is not None
                }
        if info.is_main:
            torch.save(grads, out)
    finally:
        distributed.shutdown(info)


def ddp_worker(rank: int, world: int, port: int, config, out: Path) -> None:
    import os

    os.environ.update(
        RANK=str(rank),
        LOCAL_RANK=str(rank),
        WORLD_SIZE=str(world),
        MASTER_ADDR="127.0.0.1",
        MASTER_PORT=str(port),
    )
    import torch

    torch.set_num_threads(1)
    first_round_gradients(config, out)


def train_interrupted_then_resumed(config, monkeypatch, at_step: int = 2) -> None:  # noqa: ANN001
    """Train ``config`` until a KeyboardInterrupt at round ``at_step`` (as a user's Ctrl-C), then resume
    the same run to its end."""
    import pytest

    from framepred.engine.trainer import Trainer, train

    real_round = Trainer._round

    def interrupted(self, inputs, rates):  # noqa: ANN001, ANN202
        if self.position["step"] == at_step:
            raise KeyboardInterrupt
        real_round(self, inputs, rates)

    monkeypatch.setattr(Trainer, "_round", interrupted)
    with pytest.raises(KeyboardInterrupt):
        train(config)
    monkeypatch.setattr(Trainer, "_round", real_round)
    train(config, resume=True)
