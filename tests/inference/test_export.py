"""Export: every registered model as ONNX and TorchScript, run by onnxruntime / torch.jit on CPU and
compared with eager PyTorch (the Predictor minus padding) at another batch and size than traced."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from framepred.errors import UsageError
from framepred.inference import Predictor
from framepred.inference.export import (
    EXPORT_FORMATS,
    FrameGraph,
    export_model,
    format_from_suffix,
    load_for_export,
    parse_blocks,
    run_exported,
)
from framepred.models import create_model, list_models, save_model
from framepred.models.registry import model_entry

SUFFIX = {"onnx": ".onnx", "torchscript": ".pt"}
# Each model's small instance of the registry (DMVFN: 9 blocks of 8 features; VideoGAN 1/16 wide):
# the graph code is the same at any width, and the defaults (68M parameters for VideoGAN) only
# make the eager reference runs slow. ONNX export time grows with the graph instead (torch.export
# and its decompositions reason about every op's symbolic sizes): 9 DMVFN blocks took over 100 s
# on 2 cores, so ONNX gets two, one of each kind (a coarse branch at scale 4, none at scale 1).
ONNX_BLOCKS = {"dmvfn": {"scales": [4, 1], "features": [8, 8]}}


def small(name: str) -> dict:
    return dict(model_entry(name).small)


def checkpoint(tmp_path, name: str, **config) -> tuple:
    """A seeded model saved as if trained on BGR frames, so the colour swap is part of what is tested."""
    torch.manual_seed(0)
    model = create_model(name, **config)
    path = tmp_path / f"{name}.safetensors"
    save_model(model, path, colour_order="BGR")
    return model, path


def eager_reference(name: str, config: dict, state: dict, frames: torch.Tensor) -> torch.Tensor:
    """What the Predictor computes for ``B x 3T x H x W`` frames, with the exported configuration."""
    model = create_model(name, **config)
    model.load_state_dict(state)
    predictor = Predictor(model, "BGR", "cpu")
    batch, channels, height, width = frames.shape
    return predictor.predict_batch(frames.view(batch, channels // 3, 3, height, width))


def check_round_trip(path, export_format: str, name: str, result: dict, state: dict) -> None:
    multiple = result["size_multiple"]
    context_frames = create_model(name, **result["config"]).context_frames  # msgan: from its config
    frames = torch.rand(3, 3 * context_frames, 5 * multiple, 7 * multiple)
    if multiple == 1:
        frames = frames[..., :37, :53]  # an odd size, for models that take any size
    exported = run_exported(path, export_format, frames)
    expected = eager_reference(name, result["config"], state, frames)
    assert exported.shape == expected.shape
    assert float((exported - expected).abs().max()) * 255.0 <= 1.0


@pytest.mark.parametrize("export_format", EXPORT_FORMATS)
@pytest.mark.parametrize("name", list_models())
def test_every_registered_model_exports_with_dynamic_batch_and_size(tmp_path, name, export_format) -> None:
    if export_format == "onnx":
        pytest.importorskip("onnxruntime")
        pytest.importorskip("onnxscript")
    config = {**small(name), **(ONNX_BLOCKS.get(name, {}) if export_format == "onnx" else {})}
    model, path = checkpoint(tmp_path, name, **config)
    out = tmp_path / f"{name}{SUFFIX[export_format]}"
    try:
        load_for_export(path)  # as export builds it (DMVFN: routing all)
        refused = False
    except UsageError:  # e.g. fusion: OpenCV inside
        refused = True
    if refused:
        assert model.export_problem() is not None  # only a model that says why may be refused
        with pytest.raises(UsageError, match="cannot be exported"):
            export_model(out, export_format, weights=path)
        assert not out.exists()
        return
    result = export_model(out, export_format, weights=path)
    assert out.is_file() and result["format"] == export_format and result["model"] == name
    assert result["max_difference_grey_levels"] <= 1.0
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary file left
    check_round_trip(out, export_format, name, result, model.state_dict())


@pytest.mark.parametrize(
    "export_format", ["torchscript", pytest.param("onnx", marks=pytest.mark.slow)]
)  # the ONNX export of every model above already runs the same graph code (a block of each kind)
def test_dmvfn_exports_a_fixed_block_mask(tmp_path, export_format) -> None:
    if export_format == "onnx":
        pytest.importorskip("onnxruntime")
    model, path = checkpoint(tmp_path, "dmvfn", **small("dmvfn"))
    out = tmp_path / f"three_blocks{SUFFIX[export_format]}"
    result = export_model(out, export_format, weights=path, blocks=[8, 0, 4])
    assert result["config"]["routing"] == "all" and tuple(result["config"]["blocks"]) == (0, 4, 8)
    check_round_trip(out, export_format, "dmvfn", result, model.state_dict())
    # Not the 9-block network: the mask is really in the graph.
    frames = torch.rand(1, 6, 64, 96)
    all_blocks = eager_reference("dmvfn", {**small("dmvfn"), "routing": "all"}, model.state_dict(), frames)
    assert float((run_exported(out, export_format, frames) - all_blocks).abs().max()) > 1e-3


def test_bgr_swap_is_folded_into_the_graph() -> None:
    torch.manual_seed(1)
    model = create_model("dmvfn", routing="all", features=[8] * 9).eval()
    frames = torch.rand(1, 6, 32, 48)
    with torch.inference_mode():
        rgb = FrameGraph(model, "RGB")(frames)
        bgr = FrameGraph(model, "BGR")(frames)
        by_hand = FrameGraph(model, "RGB")(frames.view(1, 2, 3, 32, 48).flip(2).reshape(1, 6, 32, 48)).flip(1)
    torch.testing.assert_close(bgr, by_hand)
    assert not torch.equal(rgb, bgr)


def test_routing_decided_per_frame_is_refused_with_the_fix(tmp_path) -> None:
    _, path = checkpoint(tmp_path, "dmvfn")
    with pytest.raises(UsageError, match="routing 'sample'.*--routing all or a fixed mask"):
        export_model(tmp_path / "m.pt", "torchscript", weights=path, routing="sample")
    assert not (tmp_path / "m.pt").exists()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"blocks": [9]}, "numbered 0 to 8"),
        ({"routing": "threshold", "blocks": [1]}, "use routing 'all'"),
    ],
)
def test_bad_block_masks_are_usage_errors(tmp_path, kwargs, message) -> None:
    _, path = checkpoint(tmp_path, "dmvfn")
    with pytest.raises(UsageError, match=message):
        export_model(tmp_path / "m.pt", "torchscript", weights=path, **kwargs)


def test_options_are_checked_before_anything_is_loaded(tmp_path) -> None:
    with pytest.raises(UsageError, match="should end in .onnx"):
        export_model(tmp_path / "m.pt", "onnx", model="linear")
    with pytest.raises(UsageError, match="unknown export format"):
        export_model(tmp_path / "m.pt", "tflite", model="linear")
    with pytest.raises(UsageError, match="cannot tell the format"):
        format_from_suffix(tmp_path / "m.bin")
    assert format_from_suffix("m.ONNX") == "onnx" and format_from_suffix("m.pt") == "torchscript"
    with pytest.raises(UsageError, match="block numbers"):
        parse_blocks("0,x")
    assert parse_blocks("8, 0,4") == [8, 0, 4]


def test_missing_onnx_packages_say_how_to_install_them(tmp_path, monkeypatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda n, *a: None if n == "onnxscript" else real(n, *a))
    with pytest.raises(UsageError, match=r"onnxscript.*pip install 'framepred\[export\]' -c constraints.txt"):
        export_model(tmp_path / "m.onnx", "onnx", model="linear")


def test_exported_torchscript_runs_on_real_frames(tmp_path, shared_data) -> None:
    from framepred.io.images import list_images, read_image

    files = list_images(shared_data / "davis_judo_cutie")[:2]
    frames = [read_image(f)[:128, :224] for f in files]  # a /16 crop
    model, path = checkpoint(tmp_path, "dmvfn", **small("dmvfn"))
    out = tmp_path / "dmvfn.pt"
    export_model(out, "torchscript", weights=path)
    stacked = torch.from_numpy(np.concatenate(frames, axis=2)).permute(2, 0, 1).float()[None] / 255.0
    exported = run_exported(out, "torchscript", stacked)
    predictor = Predictor.from_checkpoint(path, device="cpu", routing="all")
    expected = predictor.predict(frames)
    got = (exported[0] * 255.0).round().clamp(0, 255).to(torch.uint8).permute(1, 2, 0).numpy()
    assert np.abs(got.astype(int) - expected.astype(int)).max() <= 1
