"""The networks of a training run and everything the engine keeps per network.

Per network: the bare module, its optimizer and gradient scaler (when the recipe trains it), its
DDP/compiled wrapper, and, for the primary network, an optional EMA copy. A phase sees the network
it trains through its wrapper and every other network bare and frozen, so a frozen discriminator
that the generator's loss runs through never touches a DDP reducer, and parameters the recipe keeps
out of every optimizer (frozen layers) are never trained.
"""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import nn

from framepred.engine.device import channels_last_
from framepred.engine.distributed import DistInfo
from framepred.errors import CheckpointError, UsageError
from framepred.tasks.base import Nets, Task


def ema_decay(decay: float, step: int) -> float:
    """The EMA decay after ``step`` rounds: ``decay``, ramped up from 0.1 so early weights fade fast."""
    return min(decay, (1.0 + step) / (10.0 + step))


class NetworkSet:
    def __init__(
        self,
        task: Task,
        device: torch.device,
        info: DistInfo,
        amp: str = "none",
        channels_last: bool = False,
        compile_networks: bool = False,
        ema: float | None = None,
    ) -> None:
        self.task, self.device, self.info = task, device, info
        self.primary_name = task.primary
        self.channels_last, self.compile_networks = channels_last, compile_networks
        self.bare: dict[str, nn.Module] = dict(task.build_networks())
        if self.primary_name not in self.bare:
            raise UsageError(
                f"recipe {task.name!r} names {self.primary_name!r} as its predicting network but builds "
                f"only {', '.join(self.bare)}"
            )
        if getattr(self.primary, "registered_name", None) is None:
            raise UsageError(f"recipe {task.name!r}: its predicting network is not a registered model")
        for net in self.bare.values():
            net.to(device)
            if channels_last:
                channels_last_(net)
        self.optimizers: dict[str, torch.optim.Optimizer] = dict(task.configure_optimizers(Nets(self.bare)))
        unknown = sorted(set(self.optimizers) - set(self.bare))
        if unknown:
            raise UsageError(
                f"recipe {task.name!r} has optimizers for unknown networks: {', '.join(unknown)}"
            )
        # What each optimizer may train: its parameters that were trainable when the recipe built them.
        self.trainable = {
            name: {id(p) for group in opt.param_groups for p in group["params"] if p.requires_grad}
            for name, opt in self.optimizers.items()
        }
        self.scalers = {
            name: torch.amp.GradScaler(device.type, enabled=amp == "fp16") for name in self.optimizers
        }
        self.ema_decay = ema
        self.ema: nn.Module | None = None
        if ema is not None:
            self.ema = copy.deepcopy(self.primary).eval().requires_grad_(False)
        self.wrapped: dict[str, nn.Module] = dict(self.bare)
        self._active: str | None = None

    @property
    def primary(self) -> nn.Module:
        return self.bare[self.primary_name]

    @property
    def predicting(self) -> nn.Module:
        """What validation runs and ``model.safetensors`` holds: the EMA copy when on, else the primary."""
        return self.ema if self.ema is not None else self.primary

    # ---- set-up ----------------------------------------------------------------------------------
    def reset_ema(self) -> None:
        """Start the EMA from the primary's current weights (after ``--init``)."""
        if self.ema is not None:
            self.ema.load_state_dict(self.primary.state_dict())

    def wrap(self) -> None:
        """Give every trained network its own DDP wrapper (and torch.compile), after restoring."""
        unused = self.task.find_unused_parameters
        for name in self.optimizers:
            model = self.bare[name]
            if self.info.enabled:
                from torch.nn.parallel import DistributedDataParallel

                # DDP syncs exactly the parameters that require gradients when it is built.
                self._freeze_all_but(name)
                ids = [self.device.index] if self.device.type == "cuda" else None
                find = unused if isinstance(unused, bool) else name in unused
                model = DistributedDataParallel(model, device_ids=ids, find_unused_parameters=find)
            if self.compile_networks:
                model = torch.compile(model)
            self.wrapped[name] = model
        self._active = None

    def train(self) -> None:
        for net in self.bare.values():
            net.train()

    # ---- one phase -------------------------------------------------------------------------------
    def _freeze_all_but(self, trains: str) -> None:
        allowed = self.trainable[trains]
        for net in self.bare.values():
            for parameter in net.parameters():
                parameter.requires_grad_(id(parameter) in allowed)
        self._active = trains

    def view(self, trains: str) -> Nets:
        """The networks as phase ``trains`` sees them: that one wrapped and trainable, others frozen."""
        if self._active != trains:
            self._freeze_all_but(trains)
        return Nets({n: (self.wrapped[n] if n == trains else net) for n, net in self.bare.items()})

    def set_learning_rates(self, rates: dict[str, float]) -> None:
        for name, optimizer in self.optimizers.items():
            if name not in rates:
                raise UsageError(f"recipe {self.task.name!r} gives no learning rate for network {name!r}")
            for group in optimizer.param_groups:
                group["lr"] = rates[name] * group.get("lr_scale", 1.0)

    def update(self, trains: str, loss: torch.Tensor, grad_clip: float | None) -> None:
        """Backward ``loss`` and step the optimizer of network ``trains`` (scaled under fp16)."""
        optimizer, scaler = self.optimizers[trains], self.scalers[trains]
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        if grad_clip is not None:
            scaler.unscale_(optimizer)
            parameters = [p for group in optimizer.param_groups for p in group["params"]]
            torch.nn.utils.clip_grad_norm_(parameters, grad_clip)
        scaler.step(optimizer)
        scaler.update()

    @torch.no_grad()
    def update_ema(self, step: int) -> None:
        if self.ema is None:
            return
        decay = ema_decay(self.ema_decay, step)
        for average, current in zip(self.ema.parameters(), self.primary.parameters(), strict=True):
            average.lerp_(current.detach(), 1.0 - decay)
        for average, current in zip(self.ema.buffers(), self.primary.buffers(), strict=True):
            average.copy_(current)

    # ---- checkpoints -----------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Everything but the predicting weights (those go to model.safetensors)."""
        networks = {n: net.state_dict() for n, net in self.bare.items() if n != self.primary_name}
        if self.ema is not None:
            networks[self.primary_name] = self.primary.state_dict()  # the raw weights behind the EMA
        return {
            "networks": networks,
            "optimizers": {n: opt.state_dict() for n, opt in self.optimizers.items()},
            "scalers": {n: scaler.state_dict() for n, scaler in self.scalers.items()},
        }

    def load_state_dict(self, predicting: dict[str, torch.Tensor], state: dict[str, Any], where: str) -> None:
        """Restore from a checkpoint: ``predicting`` the weights of model.safetensors, ``state`` the rest.

        Strict by name: a missing or extra network, optimizer or scaler is a CheckpointError."""
        networks = dict(state.get("networks", {}))
        optimizers = dict(state.get("optimizers", {}))
        scalers = dict(state.get("scalers", {}))
        if "optimizer" in state:  # written before the engine trained several networks
            optimizers.setdefault(self.primary_name, state["optimizer"])
            scalers.setdefault(self.primary_name, state["scaler"])
        expected = {n for n in self.bare if n != self.primary_name} | (
            {self.primary_name} if self.ema is not None else set()
        )
        self._check_names("networks", expected, set(networks), where)
        self._check_names("optimizers", set(self.optimizers), set(optimizers), where)
        self._check_names("gradient scalers", set(self.scalers), set(scalers), where)
        target = self.ema if self.ema is not None else self.primary
        _load_strict(target, predicting, f"{where}/model.safetensors")
        for name, weights in networks.items():
            _load_strict(self.bare[name], weights, f"{where}: network {name!r}")
        for name, optimizer in self.optimizers.items():
            optimizer.load_state_dict(optimizers[name])
        for name, scaler in self.scalers.items():
            scaler.load_state_dict(scalers[name])

    @staticmethod
    def _check_names(what: str, expected: set[str], found: set[str], where: str) -> None:
        if expected != found:
            missing, extra = sorted(expected - found), sorted(found - expected)
            detail = "; ".join(
                part
                for part in (
                    f"missing {', '.join(missing)}" if missing else "",
                    f"unexpected {', '.join(extra)}" if extra else "",
                )
                if part
            )
            raise CheckpointError(
                f"{where}: its {what} do not match this recipe ({detail}); resume with the options it was "
                "started with, or start a new run"
            )


def _load_strict(module: nn.Module, weights: dict[str, torch.Tensor], where: str) -> None:
    try:
        module.load_state_dict(weights, strict=True)
    except RuntimeError as error:
        first = str(error).strip().splitlines()[0]
        raise CheckpointError(f"{where}: weights do not fit this recipe's network ({first})") from error
