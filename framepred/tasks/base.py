"""The task interface: everything a training recipe decides, nothing the engine decides.

The engine owns the loop, devices, precision, distribution, freezing, EMA, checkpoints and logging,
and only ever iterates the names a task returns. A task declares:

* its networks by name (``build_networks``) and which one predicts (``primary``): that one is saved
  as ``model.safetensors`` and used by ``predict``/``rollout``/``evaluate``; the others (e.g.
  discriminators) are training-only and live in ``training_state.pt``;
* one optimizer per trained network and a learning rate for each (pure functions of the data-loader
  batch, so resume needs no scheduler state);
* what one *round* does: a tuple of :class:`Phase` (e.g. a discriminator step then a generator step),
  each training one network with its own loss, interval and repeat count;
* its training data (:class:`DataSpec`) and validation (:class:`ValidationSpec`);
* optionally, the stages it trains one after another (``stages``): each is a run of its own inside
  the run directory (``engine/stages.py``), and ``self.stage`` says which one this instance trains.

Single-network recipes override the one-network conveniences (``build_model``, ``loss``,
``configure_optimizer``, ``learning_rate``); the defaults turn them into one network named
``"model"`` trained by one phase.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import torch
from torch import nn

from framepred.data.augment import AugmentOptions

NO_AUGMENTATION = AugmentOptions(crop=None, rotate=False, channel_swap=False, flip=False)


class Nets(dict):
    """Networks by name, also as attributes (``nets.generator``). Inside a phase's loss the network
    that phase trains is its DDP/compiled wrapper; every other network is bare and frozen."""

    def __getattr__(self, name: str) -> nn.Module:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"no network named {name!r} (networks: {', '.join(self)})") from None


LossFunction = Callable[[Nets, Any, int], tuple[torch.Tensor, dict[str, float]]]


@dataclass(frozen=True)
class Phase:
    """One update inside a round: ``loss(nets, inputs, step)`` trains network ``trains``.

    Due in round ``step`` (0-based) when ``step >= start`` and ``step % every == offset``; runs
    ``repeat`` updates on the same inputs. ``terms`` names the logged terms the loss returns.
    """

    name: str
    trains: str
    loss: LossFunction
    terms: tuple[str, ...] = ()
    every: int = 1
    offset: int = 0
    start: int = 0
    repeat: int = 1

    def due(self, step: int) -> bool:
        return step >= self.start and step % self.every == self.offset


@dataclass(frozen=True)
class DataSpec:
    """What one training item (a *clip* of consecutive frames) is and how it is cut from the data.

    From a frame tree, clips are windows of ``clip_frames`` frames starting every ``stride`` frames
    (default: no overlap); or, with ``random_start``, each sequence gives one clip per epoch at a
    start drawn anew every epoch, its frames ``s`` apart with ``s`` drawn from 1..``max_frame_step``
    (at most sequence length // clip_frames). The draws come from the (seed, epoch, index) generator,
    so resume stays exact. ``pad``: a sequence shorter than a clip still gives one, its last frame
    repeated. ``size`` (width, height): frames are resized on read, before augmentation. ``shards``:
    ``--data`` may also be the output of ``framepred clip`` (clips of ``clip_frames`` frames).
    ``with_source_frames``: ``--data`` is a derived tree (``data/derived.py``) and each clip holds its
    frames followed by the same frames of the tree it was derived from (``2 * clip_frames``).
    """

    clip_frames: int
    stride: int | None = None
    pad: bool = False
    size: tuple[int, int] | None = None
    augment: AugmentOptions = NO_AUGMENTATION
    shards: bool = False
    with_source_frames: bool = False
    random_start: bool = False
    max_frame_step: int = 1


@dataclass(frozen=True)
class ValidationSpec:
    """Held-out windows of ``context + horizon`` frames; the model predicts the ``horizon`` frames.

    ``size`` (width, height) resizes the frames (fixed-size models); ``crop`` centre-crops them to a
    square side at most (default: whole frames). Sides are rounded down to the model's size multiple.
    ``on_source_frames``: for a derived tree, validate on the frames it was derived from (the same
    held-out sequences).
    """

    context: int = 2
    horizon: int = 1
    size: tuple[int, int] | None = None
    crop: int | None = None
    on_source_frames: bool = False


class Task(ABC):
    name: ClassVar[str] = ""
    Options: ClassVar[type]  # a dataclass of every number the recipe uses, with its defaults
    primary: ClassVar[str] = "model"  # the network that predicts (saved as model.safetensors)
    # DDP must tolerate parameters without gradient in a step (e.g. a router that is switched off):
    # True/False for every trained network, or the names of the networks that need it.
    find_unused_parameters: ClassVar[bool | frozenset[str]] = False
    ema: ClassVar[float | None] = None  # default EMA decay of the primary network (None: no EMA)
    # A recipe trained in stages names them in training order; ``framepred train NAME --stage S|all``.
    stages: ClassVar[tuple[str, ...]] = ()

    def __init__(self, options: Any) -> None:
        self.options = options
        self.stage: str | None = self.stages[0] if self.stages else None  # set by create_task(stage=)
        self.check_options()

    def check_options(self) -> None:  # noqa: B027  (optional hook)
        """Refuse option values the recipe cannot take (raise UsageError), before anything is built."""

    @classmethod
    def tiny_options(cls) -> dict[str, Any]:
        """Options that make a tiny, fast configuration (registry tests and smoke runs on a CPU).

        It must train on any frame tree of 64x64 (or larger) frames with 12 frames per sequence."""
        return {}

    @classmethod
    def tiny_data(cls, tree: Path, folder: Path) -> Path:
        """The data a tiny run trains on, made from such a frame tree (registry tests): the tree itself,
        unless the recipe trains on data derived from frames, which it then prepares in ``folder``."""
        return tree

    # ---- networks --------------------------------------------------------------------------------
    def build_networks(self) -> dict[str, nn.Module]:
        """Freshly initialised networks by name (initialisation draws from torch's global RNG)."""
        return {self.primary: self.build_model()}

    def build_model(self) -> nn.Module:
        """The one network of a single-network recipe: a registered model."""
        raise NotImplementedError(f"{type(self).__name__} must define build_model or build_networks")

    # ---- data ------------------------------------------------------------------------------------
    def use_data(self, manifest: dict[str, Any]) -> None:  # noqa: B027  (optional hook)
        """Called with the ``manifest.json`` of ``--data`` (a frame tree's or a shard folder's; {}
        when there is none) before ``data()`` is asked, so the recipe may follow what the data
        records (e.g. its ``training_clips`` rule, ``framepred.data.training_clips``)."""

    @abstractmethod
    def data(self) -> DataSpec:
        """The training clips the data loader delivers."""

    def check_data(self, root: Path, manifest: dict[str, Any]) -> None:  # noqa: B027  (optional hook)
        """Refuse a training tree the recipe cannot use (DataError saying what to give instead), and
        read what the networks need from its manifest; called before the networks are built."""

    def check_clip_size(self, height: int, width: int) -> None:  # noqa: B027  (optional hook)
        """Refuse a training clip size the recipe cannot take (UsageError naming the option)."""

    def step_inputs(self, clips: torch.Tensor) -> Iterator[Any]:
        """Split a batch of clips (``B x N x 3 x H x W`` floats in [0, 1]) into the inputs of rounds.

        Default: the whole batch is one round."""
        yield clips

    def rounds_per_batch(self) -> int:
        frames = self.data().clip_frames
        return sum(1 for _ in self.step_inputs(torch.zeros(1, frames, 1, 1, 1)))

    # ---- losses ----------------------------------------------------------------------------------
    def setup(self, device: torch.device) -> None:  # noqa: B027  (optional hook)
        """Build loss modules (frozen networks, kernels) on ``device``."""

    def phases(self) -> tuple[Phase, ...]:
        """What one round does. Default: one phase that trains the primary network with ``loss``."""
        return (
            Phase(
                "train", self.primary, lambda nets, x, step: self.loss(nets[self.primary], x), self.terms()
            ),
        )

    def terms(self) -> tuple[str, ...]:
        """Names of the terms ``loss`` reports (single-network recipes)."""
        return ()

    def loss(self, model: nn.Module, inputs: Any) -> tuple[torch.Tensor, dict[str, float]]:
        """The scalar loss of one update and its named terms (plain floats, for logging)."""
        raise NotImplementedError(f"{type(self).__name__} must define loss or phases")

    def state_dict(self) -> dict[str, Any]:
        """Running state of the recipe itself (e.g. an image pool), saved with every checkpoint."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:  # noqa: B027  (optional hook)
        pass

    # ---- optimisation ----------------------------------------------------------------------------
    def configure_optimizers(self, nets: Nets) -> dict[str, torch.optim.Optimizer]:
        """One optimizer per trained network, keyed by the network's name."""
        return {self.primary: self.configure_optimizer(nets[self.primary])}

    def configure_optimizer(self, model: nn.Module) -> torch.optim.Optimizer:
        raise NotImplementedError(f"{type(self).__name__} must define configure_optimizer(s)")

    def learning_rates(self, iteration: int, total_iterations: int) -> dict[str, float]:
        """Each optimizer's learning rate for data-loader batch ``iteration`` (0-based) of ``total``.

        A param group with an ``lr_scale`` entry gets that multiple of its optimizer's rate."""
        return {self.primary: self.learning_rate(iteration, total_iterations)}

    def learning_rate(self, iteration: int, total_iterations: int) -> float:
        raise NotImplementedError(f"{type(self).__name__} must define learning_rate(s)")

    # ---- validation ------------------------------------------------------------------------------
    def validation(self) -> ValidationSpec | None:
        """What validation predicts, or None when the recipe has nothing to score. Default: the next
        frame from two, centre-cropped to the training crop."""
        return ValidationSpec(crop=self.data().augment.crop)

    def predict(self, model: nn.Module, context: torch.Tensor, horizon: int) -> torch.Tensor:
        """``horizon`` future frames (``B x horizon x 3 x H x W``) from ``B x T x 3 x H x W`` context in
        [0, 1]: by default the model's predictions fed back recursively, as ``rollout`` does."""
        from framepred.models.interface import predict_frames, roll_forward

        def call(frames: torch.Tensor) -> torch.Tensor:
            return predict_frames(model, frames).float().clamp(0.0, 1.0)

        return torch.stack(list(roll_forward(call, context, horizon)), 1)
