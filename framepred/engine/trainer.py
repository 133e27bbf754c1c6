"""The model-agnostic training loop.

``train(config)`` runs one process's share of a run: the task (``framepred.tasks``) says what a
round computes; this module owns the loop, device, precision, distribution, validation cadence,
checkpoints and logging, and only ever iterates the names the task returns.

A *round* is one element of ``task.step_inputs(batch)``; in it every due phase of the task updates
its network (e.g. the discriminator, then the generator). ``step`` counts rounds. Position in the
data is ``(epoch, batch, update)``: the shuffled batch order of an epoch is a function of (seed,
epoch), each clip's augmentation a function of (seed, epoch, index), and every other random draw
comes from the global RNGs saved in each checkpoint. A resumed run therefore re-reads the
interrupted batch, skips the rounds already made, and continues bit for bit.
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
from torch.utils.data import DataLoader

from framepred.data.derived import source_sequence
from framepred.data.window_dataset import epoch_batches
from framepred.engine import distributed
from framepred.engine.checkpointing import load_checkpoint, rng_state, save_checkpoint, set_rng_state
from framepred.engine.config import TrainConfig
from framepred.engine.data import open_training_data
from framepred.engine.logging import RunLogger, log_line
from framepred.engine.networks import NetworkSet
from framepred.engine.validation import ValidationSet, sample_rows
from framepred.errors import CheckpointError, TrainingDiverged, UsageError
from framepred.models.interface import reseed
from framepred.tasks import create_task
from framepred.tasks.base import Phase


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
    """Run (or resume) a training run in ``config.run_dir``; every process of a DDP run calls this.

    A recipe trained in stages trains the stages ``config.stage`` selects, one run each inside
    ``config.run_dir`` (``engine/stages.py``)."""
    from framepred.tasks.registry import task_class

    config.validate()
    staged = bool(task_class(config.task).stages)
    if config.stage is not None and not staged:
        raise UsageError(f"the {config.task!r} recipe trains in one stage; drop --stage")
    info = distributed.from_environment()
    device = resolve_train_device(config.device, info)
    distributed.init_process_group(info, device)
    try:
        if staged:
            from framepred.engine.stages import train_stages

            return train_stages(config, info, device, resume)
        return Trainer(config, info, device, resume).run()
    finally:
        distributed.shutdown(info)


def _to_channels_last(inputs: Any) -> Any:
    if isinstance(inputs, torch.Tensor):
        return inputs.contiguous(memory_format=torch.channels_last) if inputs.dim() == 4 else inputs
    if isinstance(inputs, dict):
        return {key: _to_channels_last(value) for key, value in inputs.items()}
    if isinstance(inputs, list | tuple):
        return type(inputs)(_to_channels_last(value) for value in inputs)
    return inputs


class Trainer:
    def __init__(
        self, config: TrainConfig, info: distributed.DistInfo, device: torch.device, resume: bool
    ) -> None:
        self.config, self.info, self.device = config, info, device
        self.run_dir = Path(config.run_dir)
        self.task = create_task(config.task, stage=config.stage, **config.task_options)
        config.task_options = dataclasses.asdict(self.task.options)  # every resolved option to config.yaml
        self._setup_precision()
        self._setup_data()
        seed_everything(config.seed)
        ema = config.ema if config.ema is not None else self.task.ema
        self.nets = NetworkSet(self.task, device, info, config.amp, config.channels_last, config.compile, ema)
        self.task.setup(device)
        self.phases: tuple[Phase, ...] = tuple(self.task.phases())
        self._check_phases()
        self.colour_order = "RGB"  # the channel order the primary network's weights expect
        self.position = {"step": 0, "epoch": 0, "batch": 0, "update": 0}
        self.best_psnr: float | None = None
        self.saved_step: int | None = None
        if resume:
            self._restore()
        elif config.init:
            self._initialise(config.init)
        self.nets.wrap()
        self._setup_validation()

    # ---- setup -----------------------------------------------------------------------------------
    def _setup_precision(self) -> None:
        amp = self.config.amp
        if amp == "fp16" and self.device.type != "cuda":
            raise UsageError("--amp fp16 needs a CUDA device; use --amp bf16 or none on the CPU")
        self.amp_dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(amp)

    def _setup_data(self) -> None:
        self.data = open_training_data(self.config, self.task)
        self.dataset = self.data.dataset
        self.batches_per_epoch = len(self._epoch_batches(0))
        self.rounds_per_batch = self.task.rounds_per_batch()
        per_epoch = self.batches_per_epoch * self.rounds_per_batch
        self.total_steps = self.config.steps or self.config.epochs * per_epoch
        self.total_iterations = math.ceil(self.total_steps / self.rounds_per_batch)

    def _setup_validation(self) -> None:
        spec = self.task.validation()
        self.validation = None
        if spec is not None and self.data.validation and self.info.is_main:
            multiple = int(getattr(self.nets.primary, "size_multiple", 1))
            sequences = self.data.validation
            if spec.on_source_frames:
                sequences = [source_sequence(sequence) for sequence in sequences]
            self.validation = ValidationSet(sequences, self.config.val_samples, spec, multiple, self.device)

    def _check_phases(self) -> None:
        if not self.phases:
            raise UsageError(f"recipe {self.task.name!r} declares no training phase")
        for phase in self.phases:
            if phase.trains not in self.nets.optimizers:
                raise UsageError(
                    f"recipe {self.task.name!r}: phase {phase.name!r} trains {phase.trains!r}, "
                    "which has no optimizer"
                )
            if phase.every < 1 or phase.repeat < 1 or not 0 <= phase.offset < phase.every:
                raise UsageError(f"recipe {self.task.name!r}: phase {phase.name!r} has a bad schedule")

    def _epoch_batches(self, epoch: int) -> list[list[int]]:
        c = self.config
        return epoch_batches(
            len(self.dataset), c.batch_size, epoch, c.seed, self.info.rank, self.info.world_size
        )

    def _restore(self) -> None:
        folder = self.run_dir / "checkpoints" / "last"
        loaded, state = load_checkpoint(folder)
        saved_world = int(state.get("world_size", 1))
        if saved_world != self.info.world_size:
            raise CheckpointError(
                f"{folder}: was trained by {saved_world} process(es), this run has {self.info.world_size}; "
                f"resume with {saved_world} (--nproc/--gpus {saved_world}), since each process reads "
                "its own share of every batch"
            )
        self._check_model_name(loaded.name, folder)
        self.nets.load_state_dict(loaded.model.state_dict(), state, str(folder))
        self.task.load_state_dict(state.get("task", {}))
        self.colour_order = loaded.colour_order
        self.position = dict(state["position"])
        self.best_psnr = state["best_psnr"]
        self.saved_step = self.position["step"]
        set_rng_state(state["rng"])

    def _initialise(self, path: str) -> None:
        """``--init``: start from a checkpoint's weights (optimizers, steps and RNGs start afresh)."""
        from framepred.models.checkpoint import load_model

        loaded = load_model(path)
        self._check_model_name(loaded.name, path)
        try:
            self.nets.primary.load_state_dict(loaded.model.state_dict(), strict=True)
        except RuntimeError as error:
            first = str(error).strip().splitlines()[0]
            config = {
                f.name: getattr(loaded.model.config, f.name) for f in dataclasses.fields(loaded.model.config)
            }
            raise CheckpointError(
                f"{path}: its weights do not fit the network this recipe builds ({first}); give the "
                f"recipe the checkpoint's model options: {config}"
            ) from error
        self.nets.reset_ema()
        self.colour_order = loaded.colour_order
        log_line(
            f"initialised {self.task.primary} from {path} ({loaded.colour_order} weights)", self.info.is_main
        )

    def _check_model_name(self, name: str, where: Any) -> None:
        expected = self.nets.primary.registered_name
        if name != expected:
            raise CheckpointError(
                f"{where}: holds a {name!r} model, but the {self.task.name!r} recipe trains {expected!r}"
            )

    # ---- the loop --------------------------------------------------------------------------------
    def _train_columns(self) -> list[str]:
        others = [f"lr_{name}" for name in self.nets.optimizers if name != self.task.primary]
        if len(self.phases) == 1:
            return ["loss", "lr", *self.phases[0].terms, *others]
        per_phase = [c for p in self.phases for c in (f"{p.name}_loss", *(f"{p.name}_{t}" for t in p.terms))]
        return ["loss", "lr", *per_phase, *others]

    def run(self) -> TrainResult:
        config, info = self.config, self.info
        resume_step = self.saved_step
        if info.is_main:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            config.save(self.run_dir / "config.yaml")
        self.logger = RunLogger(self.run_dir, self._train_columns(), info.is_main, resume_step)
        global_batch = config.batch_size * info.world_size
        log_line(
            f"training {config.task} on {self.device} for {self.total_steps} steps "
            f"({self.rounds_per_batch} per batch of {config.batch_size} clips x {info.world_size} processes "
            f"= global batch {global_batch}); {self.data.description}; validation on "
            f"{self.data.validation_source}; run dir {self.run_dir}"
            + (f"; resumed at step {resume_step}" if resume_step is not None else ""),
            info.is_main,
        )
        last_metrics: dict[str, float] = {}
        try:
            if config.val_at_start and resume_step is None and self.validation is not None:
                self._validate()  # step 0: where training starts from; never a 'best' candidate
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
        self.nets.train()
        for clips in loader:
            iteration = pos["epoch"] * len(batches) + pos["batch"]
            rates = self.task.learning_rates(iteration, self.total_iterations)
            self.nets.set_learning_rates(rates)
            clips = clips.to(self.device, non_blocking=True).float().div_(255.0)
            if self.colour_order == "BGR":  # weights from an official BGR checkpoint (--init)
                clips = clips.flip(2)
            for k, inputs in enumerate(self.task.step_inputs(clips)):
                if k < pos["update"]:
                    continue  # made before the checkpoint this run resumed from
                self._round(inputs, rates)
                pos["update"] = k + 1
                metrics = self._after_step() or metrics
                if pos["step"] >= self.total_steps:
                    return metrics
            pos["batch"] += 1
            pos["update"] = 0
        pos["epoch"] += 1
        pos["batch"] = 0
        return metrics

    def _round(self, inputs: Any, rates: dict[str, float]) -> None:
        pos, step = self.position, self.position["step"]
        if self.config.channels_last:
            inputs = _to_channels_last(inputs)
        primary = self.task.primary
        row: dict[str, float] = {"lr": rates[primary]}
        row.update({f"lr_{n}": rate for n, rate in rates.items() if n != primary})
        single = len(self.phases) == 1
        for phase in self.phases:
            if not phase.due(step):
                continue
            for _ in range(phase.repeat):
                value, terms = self._update(phase, inputs, step)
            if single:
                row.update(loss=value, **terms)
            else:
                row[f"{phase.name}_loss"] = value
                row.update({f"{phase.name}_{name}": term for name, term in terms.items()})
                if phase.trains == primary:
                    row["loss"] = value
        pos["step"] += 1
        self.nets.update_ema(pos["step"])
        self.logger.train_step(pos["step"], pos["epoch"], row)
        self._progress(row)

    def _update(self, phase: Phase, inputs: Any, step: int) -> tuple[float, dict[str, float]]:
        nets = self.nets.view(phase.trains)
        with torch.autocast(self.device.type, dtype=self.amp_dtype, enabled=self.amp_dtype is not None):
            loss, terms = phase.loss(nets, inputs, step)
        value = distributed.mean_across(loss.detach().float(), self.info).item()
        if not math.isfinite(value):
            where = (
                f"the last good checkpoint (step {self.saved_step}) is kept in {self.run_dir / 'checkpoints'}"
                if self.saved_step is not None
                else "no checkpoint had been saved yet"
            )
            which = "" if len(self.phases) == 1 else f" of phase {phase.name!r}"
            raise TrainingDiverged(
                f"loss{which} became {value} at step {step + 1}; training stopped and {where}; "
                "lower the learning rate (or set --grad-clip) and --resume"
            )
        self.nets.update(phase.trains, loss, self.config.grad_clip)
        return value, terms

    def _progress(self, row: dict[str, float]) -> None:
        step = self.position["step"]
        if not hasattr(self, "_tick"):
            self._tick = (self.logger.start, step - 1)
        if step % self.config.log_every == 0 or step == self.total_steps:
            now = time.monotonic()
            rate = (step - self._tick[1]) / max(now - self._tick[0], 1e-9)
            self._tick = (now, step)
            losses = " ".join(
                f"{name} {value:.5f}"
                for name, value in row.items()
                if name == "loss" or (len(self.phases) > 1 and name.endswith("_loss"))
            )
            log_line(
                f"step {step}/{self.total_steps} epoch {self.position['epoch']} {losses} "
                f"lr {row['lr']:.3g} {rate:.2f} steps/s",
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
            if self.data.selects_best:
                improved = self.best_psnr is None or metrics["val_psnr"] > self.best_psnr
                if improved:
                    self.best_psnr = metrics["val_psnr"]
        if step % config.save_every == 0 or final:
            self._save("last")
        if improved:
            self._save("best")
        distributed.barrier(self.info)
        return metrics

    def _predict(self, context: torch.Tensor, horizon: int) -> torch.Tensor:
        model = self.nets.predicting
        if self.colour_order == "BGR":
            return self.task.predict(model, context.flip(2), horizon).flip(2)
        return self.task.predict(model, context, horizon)

    def _validate(self) -> dict[str, float]:
        step = self.position["step"]
        model = self.nets.predicting
        model.eval()
        # Models with random draws (e.g. sampled routing) draw the same stream at every validation: the
        # scores of two steps differ by the weights only, and a resumed run validates as before.
        reseed(model, self.config.seed)
        with torch.no_grad():
            metrics, samples = self.validation.evaluate(self._predict)
        self.nets.train()
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
            "rng": rng_state(),
            "world_size": self.info.world_size,
            "task": self.task.state_dict(),
            **self.nets.state_dict(),
        }
        folder = self.run_dir / "checkpoints" / name
        save_checkpoint(folder, self.nets.predicting, state, self.position["step"], self.colour_order)
        if name == "last":
            self.saved_step = self.position["step"]
