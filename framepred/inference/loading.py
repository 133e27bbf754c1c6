"""Build a Predictor from command-line style options: a weight file, or a registered model by name."""

from __future__ import annotations

import os

from framepred.errors import UsageError
from framepred.inference.predictor import Predictor


def make_predictor(
    weights: str | os.PathLike | None = None,
    model: str | None = None,
    routing: str | None = None,
    device: str = "auto",
    seed: int | None = None,
) -> Predictor:
    """``weights`` (a framepred or official checkpoint) or ``model`` (e.g. ``copy-last``), not both."""
    if (weights is None) == (model is None):
        raise UsageError("give either --weights CHECKPOINT or --model NAME (e.g. --model copy-last)")
    if weights is not None:
        return Predictor.from_checkpoint(weights, device=device, routing=routing, seed=seed)
    config = {} if routing is None else {"routing": routing}
    return Predictor.from_name(model, device=device, seed=seed, **config)
