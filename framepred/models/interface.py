"""The prediction interface every registered model offers, and recursive prediction on top of it.

* ``context_frames``: how many past frames a call reads (oldest first);
* ``size_multiple``: height and width must be multiples of it (the Predictor pads);
* ``predict(context)``: ``B x T x 3 x H x W`` floats in [0, 1] -> the next frame ``B x 3 x H x W``;
* optionally ``frames_per_call = K > 1`` and ``predict_many(context) -> B x K x 3 x H x W``, for models
  that generate several future frames jointly (a 32-frame video from one image, 16 frames from 16);
* optionally ``reseed(seed)``, for models whose predictions are random (DMVFN's sampled routing):
  they draw from their own generator, which every call advances and ``reseed`` starts again.

Recursive prediction feeds the newest ``context_frames`` frames (inputs and predictions alike) back in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import torch
from torch import nn


def frames_per_call(model: nn.Module) -> int:
    return int(getattr(model, "frames_per_call", 1))


def reseed(model: nn.Module, seed: int | None = None) -> None:
    """Start a random model's prediction draws again from ``seed`` (None: the model's default);
    nothing to do for deterministic models."""
    hook = getattr(model, "reseed", None)
    if callable(hook):
        hook(seed)


def predict_frames(model: nn.Module, context: torch.Tensor) -> torch.Tensor:
    """The frames one call of ``model`` predicts: ``B x K x 3 x H x W`` (K = frames_per_call)."""
    if frames_per_call(model) > 1:
        return model.predict_many(context)
    return model.predict(context)[:, None]


def roll_forward(
    call: Callable[[torch.Tensor], torch.Tensor], context: torch.Tensor, steps: int
) -> Iterator[torch.Tensor]:
    """Yield ``steps`` future frames (``B x 3 x H x W``) from ``call(context) -> B x K x 3 x H x W``,
    feeding the newest ``T = context.shape[1]`` frames back in after every call."""
    count = context.shape[1]
    made = 0
    while made < steps:
        frames = call(context)
        for k in range(min(frames.shape[1], steps - made)):
            yield frames[:, k]
        made += frames.shape[1]
        context = torch.cat([context, frames.to(context.dtype)], 1)[:, -count:]
