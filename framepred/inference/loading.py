"""Build a Predictor from command-line style options: weights (a file, a name or a URL), a registered
model by name, or neither (the default weights)."""

from __future__ import annotations

import os
from typing import Any

from framepred.errors import UsageError
from framepred.inference.predictor import Predictor
from framepred.models.zoo import Announce, default_weights, resolve_weights


def make_predictor(
    weights: str | os.PathLike | None = None,
    model: str | None = None,
    routing: str | None = None,
    device: str = "auto",
    seed: int | None = None,
    announce: Announce | None = None,
    **runtime: Any,
) -> Predictor:
    """``weights`` (a checkpoint file, a weights name such as ``dmvfn-city``, or a URL) or ``model``
    (e.g. ``copy-last``), not both. With neither, ``dmvfn-city`` when it is cached or can be downloaded,
    else the model bundled with framepred; ``announce`` gets the one line saying which. ``runtime``:
    ``precision``, ``compile``, ``cuda_graphs`` (see framepred.inference.runtime). ``seed``: where a
    random model's draws start (DMVFN's sampled routing; None: the model's own seed)."""
    if weights is not None and model is not None:
        raise UsageError(
            "give either --weights CHECKPOINT or --model NAME (e.g. --model copy-last), not both"
        )
    if model is not None:
        config = {} if routing is None else {"routing": routing}
        return Predictor.from_name(model, device=device, runtime=runtime, seed=seed, **config)
    if weights is None:
        path, note = default_weights(announce)
        if announce is not None:
            announce(note)
    else:
        path = resolve_weights(weights, announce)
    return Predictor.from_checkpoint(path, device=device, routing=routing, seed=seed, **runtime)
