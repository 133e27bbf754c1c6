"""The model-agnostic training loop.

``train(config)`` runs one process's share of a run: the task (``framepred.tasks``) says what a step
computes; this module owns the loop, device, precision, distribution, validation cadence, checkpoints
and logging, and never looks at a model's name.

Position in the data is ``(epoch, batch, update)``: the shuffled batch order of an epoch is a
function of (seed, epoch), each clip's augmentation a function of (seed, epoch, index), and every
other random draw comes from the global RNGs saved in each checkpoint. A resumed run therefore
re-reads the interrupted batch, skips the updates already made, and continues bit for bit.
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader

from framepred.data.tree import FrameTree
from framepred.data.window_dataset import WindowDataset, clip_windows, epoch_batches
from framepred.engine import distributed
from framepred.engine.checkpointing import load_checkpoint, rng_state, save_checkpoint, set_rng_state
from framepred.engine.config import TrainConfig
from framepred.engine.logging import RunLogger, log_line
from framepred.engine.validation import ValidationSet, sample_rows
from framepred.errors import DataError, TrainingDiverged, UsageError
from framepred.tasks import create_task


@dataclass
class TrainResult:
    run_dir: Path
    steps: int
    validation: dict[str, float]
    best_psnr: float | None


def seed_everything(seed: int) -> None:
    import random

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def resolve_train_device(name: str, info: distributed.DistInfo) -> torch.device:
    from framepred.engine.device import resolve_device

    device = resolve_device(name)
    if device.type == "cuda" and info.enabled:
        device = torch.device("cuda", info.local_rank)  # one GPU per process
    if device.type == "cuda":
        torch.cuda.set_device(device)
    return device


def train(config: TrainConfig, resume: bool = False) -> TrainResult:
    """Run (or resume) a training run in ``config.run_dir``; every process of a DDP run calls this."""
    config.validate()
    info = distributed.from_environment()
    device = resolve_train_device(config.device, info)
    distributed.init_process_group(info, device)
    try:
        return Trainer(config, info, device, resume).run()
    finally:
        distributed.shutdown(info)


class Trainer:
    def __init__(
        self, config: TrainConfig, info: distributed.DistInfo, device: torch.device, resume: bool
    ) -> None:
        self.config, self.info, self.device = config, info, device
        self.run_dir = Path(config.run_dir)
        self.task = create_task(config.task, **config.task_options)
        config.task_options = dataclasses.asdict(
            self.task.options
        )  # every resolved option goes to config.yaml
        self._setup_precision()
        self._setup_data()
        seed_everything(config.seed)
        self.model: nn.Module = self.task.build_model().to(device)
        if config.channels_last:
            self.model = self.model.to(memory_format=torch.channels_last)
        self.task.setup(device)
        self.optimizer = self.task.configure_optimizer(self.model)
        self.scaler = torch.amp.GradScaler(device.type, enabled=config.amp == "fp16")
        self.position = {"step": 0, "epoch": 0, "batch": 0, "update": 0}
        self.best_psnr: float | None = None
        self.saved_step: int | None = None
        if resume:
            self._restore()
        self.forward_model = self._wrap(self.model)

    # ---- setup -----------------------------------------------------------------------------------
    def _setup_precision(self) -> None:
        amp = self.config.amp
        if amp == "fp16" and self.device.type != "cuda":
            raise UsageError("--amp fp16 needs a CUDA device; use --amp bf16 or none on the CPU")
        self.amp_dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(amp)

    def _setup_data(self) -> None:
        config, task = self.config, self.task
        tree = FrameTree(config.data)
        splits = tree.splits()
        if not splits:
            raise DataError(
                f"{config.data}: no <split>/<sequence>/ frame folders; make one with `framepred prepare`"
            )
        val_split = config.val_split
        if val_split is None:
            val_split = next((s for s in ("val", "test") if s in splits and len(splits) > 1), None)
        elif val_split not in splits:
            raise DataError(
                f"{config.data}: no split {val_split!r} for --val-split (splits: {', '.join(splits)})"
            )
        config.val_split = val_split
        train_sequences = [s for s in tree.sequences() if s.split != val_split]
        if not train_sequences:
            raise DataError(f"{config.data}: every sequence is in the validation split {val_split!r}")
        windows = clip_windows(train_sequences, task.clip_frames, config.clip_stride)
        self.dataset = WindowDataset(windows, task.clip_frames, task.augmentation(), config.seed)
        self.batches_per_epoch = len(self._epoch_batches(0))
        self.updates_per_batch = task.steps_per_batch()
        per_epoch = self.batches_per_epoch * self.updates_per_batch
        self.total_steps = config.steps or config.epochs * per_epoch
        self.total_iterations = math.ceil(self.total_steps / self.updates_per_batch)
        self.validation = None
        if val_split is not None and self.info.is_main:
            crop = task.augmentation().crop
            self.validation = ValidationSet(tree.sequences(val_split), config.val_samples, crop, self.device)

    def _epoch_batches(self, epoch: int) -> list[list[int]]:
        c = self.config
        return epoch_batches(
            len(self.dataset), c.batch_size, epoch, c.seed, self.info.rank, self.info.world_size
        )

    def _restore(self) -> None:
        state = load_checkpoint(self.run_dir / "checkpoints" / "last", self.model)
        self.optimizer.load_state_dict(state["optimizer"])
        self.scaler.load_state_dict(state["scaler"])
        self.position = dict(state["position"])
        self.best_psnr = state["best_psnr"]
        self.saved_step = self.position["step"]
        set_rng_state(state["rng"])

    def _wrap(self, model: nn.Module) -> nn.Module:
        if self.info.enabled:
            from torch.nn.parallel import DistributedDataParallel

            ids = [self.device.index] if self.device.type == "cuda" else None
            model = DistributedDataParallel(
                model, device_ids=ids, find_unused_parameters=self.task.find_unused_parameters
            )
        if self.config.compile:
            model = torch.compile(model)
        return model

    # ---- the loop --------------------------------------------------------------------------------
    def run(self) -> TrainResult:
        config, info = self.config, self.info
        term_names = self.task.loss_term_names()
        resume_step = self.saved_step
        if info.is_main:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            config.save(self.run_dir / "config.yaml")
        self.logger = RunLogger(self.run_dir, term_names, info.is_main, resume_step)
        global_batch = config.batch_size * info.world_size
        log_line(
            f"training {config.task} on {self.device} for {self.total_steps} steps "
            f"({self.updates_per_batch} per batch of {config.batch_size} clips x {info.world_size} processes "
            f"= global batch {global_batch}); {len(self.dataset)} clips; run dir {self.run_dir}"
            + (f"; resumed at step {resume_step}" if resume_step is not None else ""),
            info.is_main,
        )
        last_metrics: dict[str, float] = {}
        try:
            while self.position["step"] < self.total_steps:
                last_metrics = self._run_epoch() or last_metrics
        finally:
            self.logger.close()
        return TrainResult(self.run_dir, self.position["step"], last_metrics, self.best_psnr)

    def _run_epoch(self) -> dict[str, float]:
        config, pos = self.config, self.position
        batches = self._epoch_batches(pos["epoch"])
        keys = [[(pos["epoch"], index) for index in batch] for batch in batches[pos["batch"] :]]
        loader = DataLoader(
            self.dataset,
            batch_sampler=keys,
            num_workers=config.num_workers,
            pin_memory=self.device.type == "cuda",
            # Its own generator: creating a loader must not draw from the global RNG.
            generator=torch.Generator().manual_seed(config.seed),
        )
        metrics: dict[str, float] = {}
        self.model.train()
        for clips in loader:
            iteration = pos["epoch"] * len(batches) + pos["batch"]
            lr = self.task.learning_rate(iteration, self.total_iterations)
            for group in self.optimizer.param_groups:
                group["lr"] = lr
            clips = clips.to(self.device, non_blocking=True).float().div_(255.0)
            for k, inputs in enumerate(self.task.step_inputs(clips)):
                if k < pos["update"]:
                    continue  # made before the checkpoint this run resumed from
                self._step(inputs, lr)
                pos["update"] = k + 1
                metrics = self._after_step() or metrics
                if pos["step"] >= self.total_steps:
                    return metrics
            pos["batch"] += 1
            pos["update"] = 0
        pos["epoch"] += 1
        pos["batch"] = 0
        return metrics

    def _step(self, inputs: torch.Tensor, lr: float) -> None:
        config, pos = self.config, self.position
        if config.channels_last:
            inputs = inputs.contiguous(memory_format=torch.channels_last)
        with torch.autocast(self.device.type, dtype=self.amp_dtype, enabled=self.amp_dtype is not None):
            loss, terms = self.task.loss(self.forward_model, inputs)
        value = distributed.mean_across(loss.detach().float(), self.info).item()
        if not math.isfinite(value):
            where = (
                f"the last good checkpoint (step {self.saved_step}) is kept in {self.run_dir / 'checkpoints'}"
                if self.saved_step is not None
                else "no checkpoint had been saved yet"
            )
            raise TrainingDiverged(
                f"loss became {value} at step {pos['step'] + 1}; training stopped and {where}; "
                "lower --lr (or set a gradient clip) and --resume"
            )
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        if config.grad_clip is not None:
            self.scaler.unscale_(self.optimizer)
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), config.grad_clip)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        pos["step"] += 1
        self.logger.train_step(pos["step"], pos["epoch"], value, lr, terms)
        self._progress(value, lr)

    def _progress(self, loss: float, lr: float) -> None:
        step = self.position["step"]
        if not hasattr(self, "_tick"):
            self._tick = (self.logger.start, step - 1)
        if step % self.config.log_every == 0 or step == self.total_steps:
            now = time.monotonic()
            rate = (step - self._tick[1]) / max(now - self._tick[0], 1e-9)
            self._tick = (now, step)
            log_line(
                f"step {step}/{self.total_steps} epoch {self.position['epoch']} "
                f"loss {loss:.5f} lr {lr:.3g} {rate:.2f} steps/s",
                self.info.is_main,
            )

    def _out_of_time(self) -> bool:
        if self.config.max_minutes is None:
            return False
        late = torch.tensor(float(time.monotonic() - self.logger.start > 60 * self.config.max_minutes))
        return bool(distributed.mean_across(late, self.info) > 0)  # every process stops at the same step

    def _after_step(self) -> dict[str, float]:
        config, step = self.config, self.position["step"]
        if self._out_of_time():
            log_line(f"time limit of {config.max_minutes} minutes reached at step {step}", self.info.is_main)
            self.total_steps = step
        final = step >= self.total_steps
        metrics: dict[str, float] = {}
        improved = False
        if (step % config.val_every == 0 or final) and self.validation is not None:
            metrics = self._validate()
            improved = self.best_psnr is None or metrics["val_psnr"] > self.best_psnr
            if improved:
                self.best_psnr = metrics["val_psnr"]
        if step % config.save_every == 0 or final:
            self._save("last")
        if improved:
            self._save("best")
        distributed.barrier(self.info)
        return metrics

    def _validate(self) -> dict[str, float]:
        step = self.position["step"]
        self.model.eval()
        with torch.no_grad():
            metrics, samples = self.validation.evaluate(lambda ctx: self.task.predict(self.model, ctx))
        self.model.train()
        self.logger.validation(step, self.position["epoch"], metrics)
        self.logger.samples(step, sample_rows(samples))
        log_line(
            f"validation at step {step}: PSNR {metrics['val_psnr']:.2f} dB "
            f"(copy-last {metrics['copy_last_psnr']:.2f}), "
            f"L1 {metrics['val_l1']:.4f} (copy-last {metrics['copy_last_l1']:.4f})",
            self.info.is_main,
        )
        return metrics

    def _save(self, name: str) -> None:
        if not self.info.is_main:
            return
        state: dict[str, Any] = {
            "position": dict(self.position),
            "best_psnr": self.best_psnr,
            "optimizer": self.optimizer.state_dict(),
            "scaler": self.scaler.state_dict(),
            "rng": rng_state(),
            "world_size": self.info.world_size,
        }
        save_checkpoint(self.run_dir / "checkpoints" / name, self.model, state)
        if name == "last":
            self.saved_step = self.position["step"]
