"""A tiny two-network recipe for engine tests only (a plugin: ``FRAMEPRED_PLUGINS=tests.engine.toy_gan``).

A small convolutional predictor (the registered model ``toy-predictor``) and a small discriminator
train in alternation: the discriminator every round, the generator every second round (twice on
the same inputs), each with its own optimizer and learning-rate schedule. Every phase records the
``requires_grad`` flags it saw, so tests can check what the engine froze.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from framepred.data.augment import AugmentOptions
from framepred.losses.adversarial import discriminator_loss, generator_loss
from framepred.models.registry import register_model
from framepred.tasks.base import DataSpec, Nets, Phase, Task
from framepred.tasks.options import option
from framepred.tasks.registry import register_task


@dataclass(frozen=True)
class ToyPredictorConfig:
    width: int = 8


@register_model("toy-predictor", ToyPredictorConfig, "engine-test predictor", small={})
class ToyPredictor(nn.Module):
    context_frames = 2
    size_multiple = 4

    def __init__(self, config: ToyPredictorConfig) -> None:
        super().__init__()
        self.config = config
        w = config.width
        # No batch norm: with it, two processes of batch 1 would not match one of batch 2.
        self.net = nn.Sequential(nn.Conv2d(6, w, 3, padding=1), nn.ReLU(), nn.Conv2d(w, 3, 3, padding=1))

    def forward(self, context: torch.Tensor) -> torch.Tensor:
        last = context[:, -1]
        return (last + 0.1 * torch.tanh(self.net(context.flatten(1, 2)))).clamp(0.0, 1.0)

    def predict(self, context: torch.Tensor) -> torch.Tensor:
        return self(context)


class ToyDiscriminator(nn.Module):
    def __init__(self, width: int = 8) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(3, width, 4, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(width, 1, 4, 2, 1)
        )

    def forward(self, frame: torch.Tensor) -> torch.Tensor:
        return self.net(frame)


@dataclass
class ToyGANOptions:
    g_lr: float = option(2e-3, "Generator learning rate.")
    d_lr: float = option(5e-3, "Discriminator learning rate.")
    g_every: int = option(2, "Train the generator every this many rounds.")
    g_repeat: int = option(2, "Generator updates per due round.")
    crop: int = option(32, "Random crop side.")
    adversarial_weight: float = option(0.1, "Weight of the adversarial term in the generator loss.")


@register_task("toy-gan")
class ToyGANTask(Task):
    Options = ToyGANOptions
    primary = "generator"

    def __init__(self, options: ToyGANOptions) -> None:
        super().__init__(options)
        self.seen: list[tuple[str, bool, bool]] = []  # (phase, generator trainable, discriminator trainable)

    def build_networks(self) -> dict[str, nn.Module]:
        return {"generator": ToyPredictor(ToyPredictorConfig()), "discriminator": ToyDiscriminator()}

    def data(self) -> DataSpec:
        return DataSpec(clip_frames=3, augment=AugmentOptions(crop=self.options.crop, rotate=False))

    def _record(self, phase: str, nets: Nets) -> None:
        flags = [next(nets[n].parameters()).requires_grad for n in ("generator", "discriminator")]
        self.seen.append((phase, *flags))

    def d_loss(self, nets: Nets, clips: torch.Tensor, step: int) -> tuple[torch.Tensor, dict[str, float]]:
        self._record("D", nets)
        with torch.no_grad():
            fake = nets.generator(clips[:, :2])
        loss = discriminator_loss(nets.discriminator(clips[:, 2]), nets.discriminator(fake))
        return loss, {}

    def g_loss(self, nets: Nets, clips: torch.Tensor, step: int) -> tuple[torch.Tensor, dict[str, float]]:
        self._record("G", nets)
        fake = nets.generator(clips[:, :2])  # through forward: DDP syncs gradients only there
        l1 = (fake - clips[:, 2]).abs().mean()
        adversarial = generator_loss(nets.discriminator(fake))
        total = l1 + self.options.adversarial_weight * adversarial
        return total, {"l1": float(l1.detach()), "adv": float(adversarial.detach())}

    def phases(self) -> tuple[Phase, ...]:
        o = self.options
        return (
            Phase("D", "discriminator", self.d_loss),
            Phase("G", "generator", self.g_loss, terms=("l1", "adv"), every=o.g_every, repeat=o.g_repeat),
        )

    def configure_optimizers(self, nets: Nets) -> dict[str, torch.optim.Optimizer]:
        return {
            "generator": torch.optim.Adam(nets.generator.parameters(), betas=(0.5, 0.999)),
            "discriminator": torch.optim.SGD(nets.discriminator.parameters(), momentum=0.9),
        }

    def learning_rates(self, iteration: int, total: int) -> dict[str, float]:
        decay = 1.0 - 0.5 * iteration / max(total, 1)
        return {"generator": self.options.g_lr * decay, "discriminator": self.options.d_lr}

    def state_dict(self) -> dict[str, Any]:
        return {"phases_seen": len(self.seen)}
