"""The job behind ``framepred convert``: an official DMVFN checkpoint -> framepred safetensors."""

from __future__ import annotations

import os
from pathlib import Path

from framepred.errors import UsageError
from framepred.models.checkpoint import load_model, save_model
from framepred.models.zoo import resolve_weights


def convert_checkpoint(source: str | os.PathLike, output: Path) -> dict:
    """Read ``source`` (official .pkl/.pth or framepred .safetensors; a path, a weights name or a URL)
    safely and write it as framepred safetensors, recording the colour order the weights expect
    (BGR for official releases)."""
    if output.suffix.lower() != ".safetensors":
        raise UsageError(f"{output}: the converted file must end in .safetensors")
    source = resolve_weights(source)
    if output.exists() and output.resolve() == source.resolve():
        raise UsageError(f"{output}: is the input file; choose another output name")
    loaded = load_model(source)
    save_model(
        loaded.model, output, colour_order=loaded.colour_order, extra_meta={"converted_from": source.name}
    )
    parameters = sum(p.numel() for p in loaded.model.parameters())
    return {
        "input": str(source),
        "output": str(output),
        "model": loaded.name,
        "colour_order": loaded.colour_order,
        "parameters": parameters,
    }
