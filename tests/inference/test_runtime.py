"""How the network runs: bf16 autocast, torch.compile, CUDA graphs, batches of windows."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from framepred.errors import UsageError
from framepred.inference import Predictor
from framepred.models import create_model

# Stated error of bf16 against fp32 (docs/performance.md): mean under half a grey level.
BF16_MEAN_GREY_LEVELS = 0.5


def dmvfn(routing: str = "all", seed: int = 0):
    torch.manual_seed(seed)
    return create_model("dmvfn", routing=routing)


def smooth_frames(height: int, width: int, shift: int = 2) -> list[np.ndarray]:
    """Two frames of a smooth pattern moving ``shift`` pixels to the right (flow the model can follow)."""
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    frames = []
    for step in range(2):
        x = xs - shift * step
        image = np.stack([np.sin(x / 7.0) + np.cos(ys / 9.0), np.sin((x + ys) / 11.0), np.cos(x / 5.0)], -1)
        frames.append(((image + 2.0) / 4.0 * 255.0).round().clip(0, 255).astype(np.uint8))
    return frames


def test_bf16_runs_and_stays_within_its_stated_error() -> None:
    model = dmvfn(seed=3)
    frames = smooth_frames(64, 96)
    fp32 = Predictor(model, "RGB", "cpu").predict(frames).astype(np.float64)
    bf16_predictor = Predictor(model, "RGB", "cpu", precision="bf16")
    assert bf16_predictor.precision == "bf16"
    bf16 = bf16_predictor.predict(frames).astype(np.float64)
    assert bf16.shape == fp32.shape
    assert np.abs(bf16 - fp32).mean() < BF16_MEAN_GREY_LEVELS
    context = torch.rand(1, 2, 3, 32, 48)
    assert bf16_predictor.predict_batch(context).dtype == torch.float32  # float32 out either way


def test_bf16_really_changes_the_arithmetic() -> None:
    # Guards against a precision flag that is accepted and ignored.
    model = dmvfn(seed=4)
    context = torch.rand(1, 2, 3, 32, 48)
    fp32 = Predictor(model, "RGB", "cpu").predict_batch(context)
    bf16 = Predictor(model, "RGB", "cpu", precision="bf16").predict_batch(context)
    assert not torch.equal(fp32, bf16)


def test_unknown_precision_and_cuda_graphs_on_cpu_are_usage_errors() -> None:
    with pytest.raises(UsageError, match="unknown precision 'fp16'"):
        Predictor.from_name("linear", device="cpu", runtime={"precision": "fp16"})
    with pytest.raises(UsageError, match="--cuda-graphs needs a CUDA device"):
        Predictor.from_name("linear", device="cpu", runtime={"cuda_graphs": True})


def test_predict_many_equals_one_window_at_a_time() -> None:
    predictor = Predictor(dmvfn(seed=5), "BGR", "cpu")
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 256, (30, 45, 3), dtype=np.uint8) for _ in range(4)]
    windows = [frames[i : i + 2] for i in range(3)]
    batched = predictor.predict_many(windows)
    assert len(batched) == 3
    for window, prediction in zip(windows, batched):
        single = predictor.predict(window)
        assert prediction.dtype == np.uint8 and prediction.shape == (30, 45, 3)
        assert np.abs(prediction.astype(int) - single.astype(int)).max() <= 1  # batch rounding only


def test_compiled_predictor_matches_eager() -> None:
    pytest.importorskip("torch._inductor")
    context = torch.rand(2, 2, 3, 16, 24)
    eager = Predictor.from_name("linear", device="cpu").predict_batch(context)
    compiled = Predictor.from_name("linear", device="cpu", runtime={"compile": True})
    torch.testing.assert_close(compiled.predict_batch(context), eager, rtol=0, atol=1e-6)


@pytest.mark.slow
def test_compiled_dmvfn_matches_eager() -> None:
    model = create_model("dmvfn", routing="all", features=[8] * 9)
    context = torch.rand(1, 2, 3, 32, 48)
    eager = Predictor(model, "RGB", "cpu").predict_batch(context)
    compiled = Predictor(model, "RGB", "cpu", compile=True).predict_batch(context)
    torch.testing.assert_close(compiled, eager, rtol=0, atol=1e-4)


@pytest.mark.gpu
@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_cuda_graphs_replay_equals_eager_on_gpu(precision: str) -> None:
    model = dmvfn(seed=6)
    context = torch.rand(2, 2, 3, 64, 96, device="cuda")
    eager = Predictor(model, "RGB", "cuda", precision=precision).predict_batch(context)
    graphed = Predictor(model, "RGB", "cuda", precision=precision, cuda_graphs=True)
    for _ in range(3):  # capture, then replays
        torch.testing.assert_close(graphed.predict_batch(context), eager, rtol=0, atol=1e-5)
    other = torch.rand(2, 2, 3, 64, 96, device="cuda")
    torch.testing.assert_close(
        graphed.predict_batch(other),
        Predictor(model, "RGB", "cuda", precision=precision).predict_batch(other),
    )


@pytest.mark.gpu
def test_cuda_graphs_refuse_routing_decided_per_frame() -> None:
    with pytest.raises(UsageError, match="cannot capture"):
        Predictor(dmvfn(routing="threshold"), "RGB", "cuda", cuda_graphs=True)


@pytest.mark.gpu
def test_bf16_on_gpu_stays_within_its_stated_error() -> None:
    model = dmvfn(seed=7)
    frames = smooth_frames(128, 192)
    fp32 = Predictor(model, "RGB", "cuda").predict(frames).astype(np.float64)
    bf16 = Predictor(model, "RGB", "cuda", precision="bf16").predict(frames).astype(np.float64)
    assert np.abs(bf16 - fp32).mean() < BF16_MEAN_GREY_LEVELS


def test_cpu_batches_split_over_threads_give_the_same_frames() -> None:
    predictor = Predictor(dmvfn(seed=8), "RGB", "cpu")
    assert predictor.runtime.split_batches
    context = torch.rand(3, 2, 3, 32, 48)
    previous = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        split = predictor.predict_batch(context)
        assert torch.get_num_threads() == 2  # the caller's thread count is restored
        predictor.runtime.split_batches = False
        whole = predictor.predict_batch(context)
    finally:
        torch.set_num_threads(previous)
    torch.testing.assert_close(split, whole, rtol=0, atol=1e-5)


def test_routing_decided_per_call_is_never_split() -> None:
    # A random draw per call would depend on how the batch was cut.
    assert not Predictor(dmvfn(routing="sample"), "RGB", "cpu").runtime.split_batches
    assert not Predictor(dmvfn(routing="threshold"), "RGB", "cpu").runtime.split_batches
