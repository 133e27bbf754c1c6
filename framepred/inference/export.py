"""The job behind ``framepred export``: a registered model as one ONNX or TorchScript file.

The exported graph behaves like :class:`~framepred.inference.Predictor` minus the padding: its input
``frames`` is ``B x (3*T) x H x W`` float RGB in [0, 1], the T context frames stacked on the channel
axis, oldest first; its output ``prediction`` is the next frame ``B x 3 x H x W``, RGB in [0, 1].
The colour swap that BGR-trained weights (official DMVFN releases) need is part of the graph. Batch,
height and width are dynamic; height and width must be multiples of the model's ``size_multiple``.

A model whose graph depends on its input values (DMVFN's ``sample`` and ``threshold`` routing decide
per frame in Python which blocks run) says so through ``export_problem()`` and is refused with the fix.
After writing, the file is run once at another size and batch than the one it was traced with and
compared with eager PyTorch (within 1 grey level), so a graph that baked in a size is never kept.
"""

from __future__ import annotations

import dataclasses
import os
import warnings
from pathlib import Path
from typing import Any

import torch
from torch import nn

from framepred.errors import UsageError
from framepred.io.atomic import atomic_path
from framepred.models.checkpoint import COLOUR_ORDERS, load_model
from framepred.models.registry import create_model, model_entry

EXPORT_FORMATS = ("onnx", "torchscript")
SUFFIXES = {"onnx": (".onnx",), "torchscript": (".pt", ".pts", ".ts", ".torchscript")}
DEFAULT_OPSET = 18
MAX_GREY_LEVELS = 1.0  # exported output vs eager, in 8-bit grey levels
INSTALL_HINT = "pip install 'framepred[export]' -c constraints.txt"


class FrameGraph(nn.Module):
    """What an exported file computes: ``B x (3*T) x H x W`` RGB in [0, 1] -> ``B x 3 x H x W`` RGB."""

    def __init__(self, model: nn.Module, colour_order: str = "RGB") -> None:
        super().__init__()
        if colour_order not in COLOUR_ORDERS:
            raise UsageError(f"colour order must be RGB or BGR, got {colour_order!r}")
        self.model = model.eval()
        self.context_frames = int(model.context_frames)
        self.bgr = colour_order == "BGR"

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        batch, _, height, width = frames.shape
        context = frames.reshape(batch, self.context_frames, 3, height, width)
        if self.bgr:
            context = context.flip(2)
        prediction = self.model.predict(context)
        if self.bgr:
            prediction = prediction.flip(1)
        return prediction.clamp(0.0, 1.0)


def format_from_suffix(output: str | os.PathLike) -> str:
    """``onnx`` or ``torchscript`` from the output's suffix; anything else asks for ``--format``."""
    suffix = Path(output).suffix.lower()
    for export_format, suffixes in SUFFIXES.items():
        if suffix in suffixes:
            return export_format
    raise UsageError(
        f"{output}: cannot tell the format from {suffix!r}; name it .onnx or .pt, or give --format"
    )


def parse_blocks(text: str | None) -> list[int] | None:
    """``"0,3,6"`` -> ``[0, 3, 6]``; ``None`` stays None."""
    if text is None:
        return None
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise UsageError(
            f"--blocks takes block numbers separated by commas, e.g. 0,3,6; got {text!r}"
        ) from None


def load_for_export(
    weights: str | os.PathLike | None = None,
    model: str | None = None,
    routing: str | None = None,
    blocks: list[int] | None = None,
) -> tuple[nn.Module, str, str]:
    """The model to export, its registry name and its colour order. Models with a ``routing``
    option (DMVFN) default to ``all`` here: the other modes cannot be expressed as one graph."""
    if (weights is None) == (model is None):
        raise UsageError("give either --weights CHECKPOINT or --model NAME (e.g. --model linear)")
    if weights is not None:
        loaded = load_model(weights, device="cpu")
        network, name, colour_order = loaded.model, loaded.name, loaded.colour_order
    else:
        network, name, colour_order = create_model(model), model, "RGB"
    fields = {f.name for f in dataclasses.fields(model_entry(name).config_class)}
    overrides: dict[str, Any] = {}
    if routing is not None or "routing" in fields:
        overrides["routing"] = routing or "all"
    if blocks is not None:
        overrides["blocks"] = tuple(blocks)
    if overrides:
        config = {**dataclasses.asdict(network.config), **overrides}
        rebuilt = create_model(name, **config)
        rebuilt.load_state_dict(network.state_dict())
        network = rebuilt
    problem = getattr(network, "export_problem", lambda: None)()
    if problem is not None:
        raise UsageError(f"{name} cannot be exported as configured: {problem}")
    return network.eval(), name, colour_order


def _example_input(graph: FrameGraph, multiple: int, batch: int, height: int, width: int) -> torch.Tensor:
    """Random frames of at least ``height`` x ``width``, rounded up to the model's size multiple."""
    height, width = -(-height // multiple) * multiple, -(-width // multiple) * multiple
    generator = torch.Generator().manual_seed(0)
    return torch.rand(batch, 3 * graph.context_frames, height, width, generator=generator)


def export_model(
    output: str | os.PathLike,
    export_format: str,
    weights: str | os.PathLike | None = None,
    model: str | None = None,
    routing: str | None = None,
    blocks: list[int] | None = None,
    opset: int = DEFAULT_OPSET,
) -> dict[str, Any]:
    """Write the model as ``export_format`` to ``output``; returns what was written and the check."""
    if export_format not in EXPORT_FORMATS:
        raise UsageError(f"unknown export format {export_format!r}: choose {' or '.join(EXPORT_FORMATS)}")
    output = Path(output)
    if output.suffix.lower() not in SUFFIXES[export_format]:
        raise UsageError(
            f"{output}: a {export_format} file should end in {' or '.join(SUFFIXES[export_format])}"
        )
    if output.is_dir():
        raise UsageError(f"{output}: is a folder; give a file name such as model.onnx")
    if export_format == "onnx":
        _require_onnx()
    network, name, colour_order = load_for_export(weights, model, routing, blocks)
    graph = FrameGraph(network, colour_order).eval()
    multiple = int(network.size_multiple)
    example = _example_input(graph, multiple, batch=2, height=64, width=96)
    output.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(output) as temp:
        if export_format == "onnx":
            _write_onnx(graph, example, temp, multiple, opset)
        else:
            _write_torchscript(graph, example, temp)
        # Check at another batch and size than traced, so that a baked-in size is caught here.
        check = _example_input(graph, multiple, batch=1, height=48, width=128)
        difference = max_grey_level_difference(temp, export_format, graph, check)
    return {
        "output": str(output),
        "format": export_format,
        "model": name,
        "config": dataclasses.asdict(network.config),
        "colour_order_of_weights": colour_order,
        "input": f"frames: B x {3 * graph.context_frames} x H x W float RGB in [0, 1], oldest frame first",
        "output_tensor": "prediction: B x 3 x H x W float RGB in [0, 1]",
        "size_multiple": int(network.size_multiple),
        "max_difference_grey_levels": difference,
    }


def _require_onnx() -> None:
    missing = [m for m in ("onnx", "onnxscript", "onnxruntime") if not _importable(m)]
    if missing:
        raise UsageError(f"ONNX export needs {', '.join(missing)}, which is not installed: {INSTALL_HINT}")


def _importable(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def _write_onnx(graph: FrameGraph, example: torch.Tensor, path: Path, multiple: int, opset: int) -> None:
    from torch.export import Dim

    rows, cols = Dim("rows", min=1, max=1024), Dim("cols", min=1, max=1024)
    dynamic = {"frames": {0: Dim("batch", min=1, max=1024), 2: multiple * rows, 3: multiple * cols}}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the exporter's deprecation and tracer notes are not for users
        program = torch.onnx.export(
            graph,
            (example,),
            input_names=["frames"],
            output_names=["prediction"],
            dynamic_shapes=dynamic,
            opset_version=opset,
            dynamo=True,
            external_data=False,
            verbose=False,
        )
    program.save(str(path))


def _write_torchscript(graph: FrameGraph, example: torch.Tensor, path: Path) -> None:
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore", torch.jit.TracerWarning)  # shape checks run once, at trace time
        traced = torch.jit.trace(graph, example, check_trace=False)
    torch.jit.save(traced, str(path))


def run_exported(path: str | os.PathLike, export_format: str, frames: torch.Tensor) -> torch.Tensor:
    """Run an exported file on CPU: onnxruntime for ONNX, ``torch.jit.load`` for TorchScript."""
    if export_format == "onnx":
        import onnxruntime

        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        (prediction,) = session.run(["prediction"], {"frames": frames.numpy()})
        return torch.from_numpy(prediction)
    module = torch.jit.load(str(path), map_location="cpu")
    with torch.inference_mode():
        return module(frames)


def max_grey_level_difference(
    path: str | os.PathLike, export_format: str, graph: FrameGraph, frames: torch.Tensor
) -> float:
    """Largest difference between the exported file's and eager PyTorch's 8-bit outputs; a file that
    is off by more than 1 grey level (or returns the wrong shape) is an error."""
    from framepred.errors import CheckpointError

    with torch.inference_mode():
        eager = graph(frames)
    exported = run_exported(path, export_format, frames)
    if exported.shape != eager.shape:
        raise CheckpointError(
            f"the exported {export_format} graph returned shape {tuple(exported.shape)} instead of "
            f"{tuple(eager.shape)}; please report this with the model's name"
        )
    difference = float((exported.float() - eager).abs().max()) * 255.0
    if difference > MAX_GREY_LEVELS:
        raise CheckpointError(
            f"the exported {export_format} graph differs from PyTorch by {difference:.2f} grey levels "
            f"(more than {MAX_GREY_LEVELS:g}); nothing was written; please report this"
        )
    return difference
