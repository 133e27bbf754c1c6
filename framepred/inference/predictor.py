"""Predictor: run any registered model on ordinary frames.

Users give and get uint8 H x W x 3 RGB arrays of any size. The Predictor converts them to float
tensors, swaps to BGR when the weights expect it (official DMVFN releases), pads by edge replication
to the model's size multiple and crops back, runs in ``torch.inference_mode`` with channels_last
tensors, and rounds back to uint8. This is the only place that thinks about colour order.

How the network runs is chosen once (see :mod:`framepred.inference.runtime`): ``precision`` fp32 or
bf16 (autocast, on CPU and GPU), ``compile`` (torch.compile) and ``cuda_graphs`` (one captured graph
per input size, replayed: for fixed-size streams on a GPU).
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from framepred.engine.device import channels_last_, resolve_device
from framepred.errors import DataError, UsageError
from framepred.inference.runtime import Runtime
from framepred.models.checkpoint import COLOUR_ORDERS, load_model
from framepred.models.interface import reseed, roll_forward
from framepred.models.registry import create_model


class Predictor:
    """``seed``: where a random model's draws (DMVFN's sampled routing) start; every call of this
    Predictor advances them, so the same calls with the same seed give the same frames."""

    def __init__(
        self,
        model: nn.Module,
        colour_order: str = "RGB",
        device: str | torch.device = "cpu",
        precision: str = "fp32",
        compile: bool = False,
        cuda_graphs: bool = False,
        seed: int | None = None,
    ) -> None:
        if colour_order not in COLOUR_ORDERS:
            raise UsageError(f"colour order must be RGB or BGR, got {colour_order!r}")
        self.device = resolve_device(device)
        self.colour_order = colour_order
        self.model = model.eval().to(self.device)
        reseed(self.model, seed)  # one stream per Predictor, None: the model's default seed
        # Convolutions on CPU (oneDNN) and GPU (cuDNN) are faster on NHWC tensors.
        channels_last_(self.model)  # also the 3D weights of video networks (channels_last_3d)
        self.runtime = Runtime(self.model, self.device, precision, compile, cuda_graphs)

    @classmethod
    def from_checkpoint(
        cls,
        path: str | os.PathLike,
        device: str | torch.device = "auto",
        routing: str | None = None,
        seed: int | None = None,
        **runtime: Any,
    ) -> Predictor:
        """Load a framepred or official checkpoint; ``routing`` overrides DMVFN's routing mode;
        ``runtime`` takes ``precision``, ``compile`` and ``cuda_graphs``."""
        overrides = {} if routing is None else {"routing": routing}
        loaded = load_model(path, device="cpu", **overrides)
        return cls(loaded.model, loaded.colour_order, device, seed=seed, **runtime)

    @classmethod
    def from_name(
        cls,
        name: str,
        device: str | torch.device = "auto",
        runtime: dict | None = None,
        seed: int | None = None,
        **config: Any,
    ) -> Predictor:
        """A model built from the registry with its default (untrained) weights, e.g. ``copy-last``."""
        return cls(create_model(name, **config), "RGB", device, seed=seed, **(runtime or {}))

    @property
    def precision(self) -> str:
        return self.runtime.precision

    @property
    def context_frames(self) -> int:
        return int(self.model.context_frames)

    @property
    def model_name(self) -> str:
        return str(getattr(self.model, "registered_name", type(self.model).__name__))

    # ---- float tensors ----------------------------------------------------------------------------

    def predict_batch(self, context: torch.Tensor) -> torch.Tensor:
        """``B x T x 3 x H x W`` RGB floats in [0, 1] (oldest first, any size, any device) ->
        the next frames ``B x 3 x H x W``, on the input's device."""
        with torch.inference_mode():
            return self._predict_float(context)[:, 0].to(context.device)

    def rollout_batch(self, context: torch.Tensor, steps: int) -> torch.Tensor:
        """``steps`` future frames ``B x steps x 3 x H x W`` from ``B x T x 3 x H x W`` RGB floats,
        each call's predictions fed back as context (kept in float), on the input's device."""
        with torch.inference_mode():
            frames = list(roll_forward(self._predict_float, context.to(self.device, torch.float32), steps))
            return torch.stack(frames, 1).to(context.device)

    def _predict_float(self, context: torch.Tensor) -> torch.Tensor:
        """``B x K x 3 x H x W``: the frames one call of the model predicts (K = frames_per_call)."""
        padded, height, width = self._padded(context)
        return self._unpadded(self.runtime(padded), height, width)

    def _streams_float(self, context: torch.Tensor) -> dict[str, torch.Tensor]:
        """The model's internal streams behind one call (``model.streams``), cropped like its frames."""
        padded, height, width = self._padded(context)
        return {name: self._unpadded(s, height, width) for name, s in self.model.streams(padded).items()}

    def _padded(self, context: torch.Tensor) -> tuple[torch.Tensor, int, int]:
        """The context checked, in the weights' colour order and padded to the size multiple."""
        if context.dim() != 5 or context.shape[2] != 3:
            raise DataError(f"expected context frames B x T x 3 x H x W, got shape {tuple(context.shape)}")
        batch, frames, _, height, width = context.shape
        if frames != self.context_frames:
            raise DataError(f"this model reads {self.context_frames} context frames, got {frames}")
        frames_4d = context.to(self.device, torch.float32).reshape(batch * frames, 3, height, width)
        if self.colour_order == "BGR":
            frames_4d = frames_4d.flip(1)
        multiple = int(self.model.size_multiple)
        pad_bottom, pad_right = -height % multiple, -width % multiple
        if pad_bottom or pad_right:
            frames_4d = F.pad(frames_4d, (0, pad_right, 0, pad_bottom), mode="replicate")
        frames_4d = frames_4d.contiguous(memory_format=torch.channels_last)
        return frames_4d.view(batch, frames, 3, height + pad_bottom, width + pad_right), height, width

    def _unpadded(self, images: torch.Tensor, height: int, width: int) -> torch.Tensor:
        images = images[..., :height, :width]
        if self.colour_order == "BGR":
            images = images.flip(2)
        return images.clamp(0.0, 1.0)

    # ---- uint8 RGB images ----------------------------------------------------------------------------

    def predict(self, frames: Sequence[np.ndarray]) -> np.ndarray:
        """The next frame after ``frames`` (uint8 H x W x 3 RGB, oldest first; the last
        ``context_frames`` are used)."""
        context = self._context(frames)
        with torch.inference_mode():
            return to_uint8(self._predict_float(context)[0, 0])

    def predict_many(self, windows: Sequence[Sequence[np.ndarray]]) -> list[np.ndarray]:
        """The next frame after each window (as in :meth:`predict`), run as one batch; all frames
        of all windows must have one size."""
        if not windows:
            return []
        contexts = [self._context(frames, on_device=False) for frames in windows]
        shapes = {tuple(context.shape) for context in contexts}
        if len(shapes) != 1:
            raise DataError("the windows of one batch differ in frame size; batch frames of one size")
        batch = torch.cat(contexts).to(self.device)
        with torch.inference_mode():
            predictions = to_uint8_batch(self._predict_float(batch)[:, 0])
        return list(predictions)

    def rollout(self, frames: Sequence[np.ndarray], steps: int) -> Iterator[np.ndarray]:
        """Yield ``steps`` future frames one at a time; each prediction becomes the newest context
        frame, kept in float (never rounded to uint8) between steps."""
        if steps < 1:
            raise UsageError(f"steps must be at least 1, got {steps}")
        context = self._context(frames)
        with torch.inference_mode():
            for prediction in roll_forward(self._predict_float, context, steps):
                yield to_uint8(prediction[0])

    @property
    def has_streams(self) -> bool:
        """Whether the model shows internal streams (``streams(context) -> {name: B x K x 3 x H x W}``)."""
        return callable(getattr(self.model, "streams", None))

    def rollout_streams(
        self, frames: Sequence[np.ndarray], steps: int
    ) -> Iterator[tuple[np.ndarray, dict[str, np.ndarray]]]:
        """As :meth:`rollout`, each frame with the model's streams behind it (name -> uint8 image), from
        the same context as the frames (a second pass per call; empty for models without streams)."""
        if steps < 1:
            raise UsageError(f"steps must be at least 1, got {steps}")
        context = self._context(frames)
        waiting: deque[dict[str, torch.Tensor]] = deque()

        def call(window: torch.Tensor) -> torch.Tensor:
            predicted = self._predict_float(window)
            streams = self._streams_float(window) if self.has_streams else {}
            for k in range(predicted.shape[1]):
                waiting.append({name: images[:, k] for name, images in streams.items()})
            return predicted

        with torch.inference_mode():
            for prediction in roll_forward(call, context, steps):
                streams = waiting.popleft()
                yield to_uint8(prediction[0]), {name: to_uint8(image[0]) for name, image in streams.items()}

    def _context(
        self, frames: Sequence[np.ndarray] | Iterable[np.ndarray], on_device: bool = True
    ) -> torch.Tensor:
        frames = list(frames)
        if len(frames) < self.context_frames:
            raise DataError(f"need at least {self.context_frames} context frames, got {len(frames)}")
        frames = frames[-self.context_frames :]
        shapes = {np.shape(frame) for frame in frames}
        if len(shapes) != 1:
            raise DataError(f"context frames differ in size: {sorted(shapes)}; resize them to one size first")
        for frame in frames:
            if (
                not isinstance(frame, np.ndarray)
                or frame.dtype != np.uint8
                or frame.ndim != 3
                or frame.shape[2] != 3
            ):
                raise DataError(
                    f"expected uint8 H x W x 3 RGB frames, got {getattr(frame, 'dtype', type(frame))} "
                    f"of shape {np.shape(frame)}"
                )
        stacked = torch.from_numpy(np.stack(frames))  # T x H x W x 3
        if on_device:
            stacked = stacked.to(self.device)
        return (stacked.permute(0, 3, 1, 2).float() / 255.0)[None]


def to_uint8(frame: torch.Tensor) -> np.ndarray:
    """``3 x H x W`` float in [0, 1] -> uint8 H x W x 3 (rounded to nearest)."""
    return to_uint8_batch(frame[None])[0]


def to_uint8_batch(frames: torch.Tensor) -> np.ndarray:
    """``B x 3 x H x W`` float in [0, 1] -> uint8 ``B x H x W x 3``, rounded on the frames' device
    so only bytes cross to the host."""
    rounded = frames.float().mul(255.0).round_().clamp_(0, 255).to(torch.uint8)
    return rounded.permute(0, 2, 3, 1).contiguous().cpu().numpy()
