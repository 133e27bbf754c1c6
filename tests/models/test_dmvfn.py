"""DMVFN network: official parameter layout, the two forward paths, routing modes and warping."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from framepred.errors import UsageError
from framepred.models import create_model, list_models
from framepred.models.dmvfn import DMVFN, MVFB, DMVFNConfig, backward_warp, cat_channels

SCALES = [4, 4, 4, 2, 2, 2, 1, 1, 1]


def official_key_shapes() -> dict[str, tuple[int, ...]]:
    """The state dict of the official code, written out from the spec's table (§12)."""
    shapes: dict[str, tuple[int, ...]] = {}
    for block, c in enumerate([160] * 3 + [80] * 3 + [44] * 3):
        half, quarter = c // 2, c // 4
        convs = {
            "conv0.0": (half, 17),
            "conv0.1": (c, half),
            "convblock.0": (c, c),
            "convblock.1": (c, c),
            "convblock.2": (c, c),
            "conv_sq": (quarter, c),
            "conv1.0": (8, 17),
            "convblock1.0": (8, 8),
        }
        for name, (out_ch, in_ch) in convs.items():
            shapes[f"block{block}.{name}.0.weight"] = (out_ch, in_ch, 3, 3)
            shapes[f"block{block}.{name}.0.bias"] = (out_ch,)
            shapes[f"block{block}.{name}.1.weight"] = (out_ch,)
        shapes[f"block{block}.lastconv.weight"] = (quarter + 8, 5, 4, 4)
        shapes[f"block{block}.lastconv.bias"] = (5,)
    shapes.update(
        {
            "routing.0.weight": (32, 6, 3, 3),
            "routing.0.bias": (32,),
            "routing.2.weight": (32, 32, 3, 3),
            "routing.2.bias": (32,),
            "l1.weight": (9, 32),
            "l1.bias": (9,),
        }
    )
    return shapes


@pytest.fixture(scope="module")
def net() -> DMVFN:
    torch.manual_seed(0)
    return create_model("dmvfn").eval()


def frames(batch: int = 1, height: int = 32, width: int = 48, seed: int = 0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.rand(batch, 6, height, width, generator=generator)


def test_registered_with_model_interface() -> None:
    assert "dmvfn" in list_models(trainable_only=True)
    assert DMVFN.context_frames == 2 and DMVFN.size_multiple == 16


def test_parameter_count_matches_official(net: DMVFN) -> None:
    assert sum(p.numel() for p in net.parameters()) == 3_559_930
    assert sum(p.numel() for n, p in net.named_parameters() if n.startswith(("routing", "l1"))) == 11_305


def test_state_dict_keys_shapes_and_order_match_official(net: DMVFN) -> None:
    expected = official_key_shapes()
    actual = {key: tuple(value.shape) for key, value in net.state_dict().items()}
    assert list(actual) == list(expected)  # same insertion order as the official file
    assert actual == expected


def test_training_path_returns_nine_outputs_in_range(net: DMVFN) -> None:
    x = frames(batch=2)
    with torch.no_grad():
        outputs = net(torch.cat([x, x[:, :3]], 1), SCALES, training=True)  # 9 channels: gt is ignored
    assert len(outputs) == 9
    for output in outputs:
        assert output.shape == (2, 3, 32, 48)
        assert output.min() >= 0 and output.max() <= 1


def test_test_path_matches_training_path_with_the_same_gates(net: DMVFN) -> None:
    x = frames()
    gates = torch.tensor([[1, 0, 1, 1, 0, 0, 1, 1, 0]], dtype=torch.bool)
    with torch.no_grad():
        trained = net._training_path(x, SCALES, gates.float())
        tested, fired = net._test_path(x, SCALES, gates)
    assert len(tested) == 5 and bool(fired.all())
    # 1e-5, not exact: the test path runs lastconv in its sub-pixel form (the same products summed
    # in another order, see test_state_delta_is_lastconv_in_the_state_order)
    torch.testing.assert_close(tested[-1], trained[-1], rtol=0, atol=1e-5)


@pytest.mark.parametrize("memory_format", [torch.contiguous_format, torch.channels_last])
def test_state_delta_is_lastconv_in_the_state_order(memory_format) -> None:
    torch.manual_seed(4)
    block = MVFB(17, 16).to(memory_format=memory_format)
    stacked = torch.randn(2, 17, 32, 48).contiguous(memory_format=memory_format)
    with torch.no_grad():
        flow_delta, mask_delta = block.forward_stacked(stacked, 2)
        delta = block.state_delta(stacked, 2)
    assert delta.shape == (2, 5, 32, 48)
    torch.testing.assert_close(delta[:, 0:1], mask_delta, rtol=0, atol=1e-5)
    torch.testing.assert_close(delta[:, 1:5], flow_delta, rtol=0, atol=1e-5)


def test_cat_channels_equals_torch_cat_in_both_layouts() -> None:
    a, b = torch.randn(2, 5, 6, 7), torch.randn(2, 3, 6, 7)
    a_last, b_last = (t.contiguous(memory_format=torch.channels_last) for t in (a, b))
    assert torch.equal(cat_channels(a, b), torch.cat([a, b], 1))
    joined = cat_channels(a_last, b_last)
    assert torch.equal(joined, torch.cat([a, b], 1))
    assert joined.is_contiguous(memory_format=torch.channels_last)


def test_all_mode_runs_every_block_without_the_router() -> None:
    model = create_model("dmvfn", routing="all").eval()
    calls = []
    model.routing.register_forward_hook(lambda *args: calls.append("router"))
    with torch.no_grad():
        outputs = model(frames(), SCALES, training=False)
    assert len(outputs) == 9 and calls == []


def test_skipped_blocks_cost_nothing_and_gates_are_per_sample(net: DMVFN) -> None:
    batches: dict[int, list[int]] = {}
    hooks = [
        block.conv1.register_forward_hook(  # forward_stacked bypasses the block's own hooks
            lambda module, args, out, i=i: batches.setdefault(i, []).append(args[0].shape[0])
        )
        for i, block in enumerate(net.blocks())
    ]
    x = frames(batch=2)
    gates = torch.tensor([[1, 0, 0, 1, 0, 0, 1, 0, 0], [1, 1, 0, 0, 0, 0, 1, 0, 0]], dtype=torch.bool)
    try:
        with torch.no_grad():
            together, _ = net._test_path(x, SCALES, gates)
    finally:
        for hook in hooks:
            hook.remove()
    # blocks 2, 4, 5, 7, 8 never ran; blocks 1 and 3 ran on one sample only
    assert batches == {0: [2], 1: [1], 3: [1], 6: [2]}
    with torch.no_grad():
        alone0, _ = net._test_path(x[:1], SCALES, gates[:1])
        alone1, _ = net._test_path(x[1:], SCALES, gates[1:])
    torch.testing.assert_close(together[-1][0], alone0[-1][0], rtol=0, atol=1e-5)
    torch.testing.assert_close(together[-1][1], alone1[-1][0], rtol=0, atol=1e-5)


def test_sample_routing_draws_fresh_gates_on_every_call_and_repeats_by_seed(net: DMVFN) -> None:
    x = frames(seed=3, batch=2)
    net.reseed(7)
    with torch.no_grad():
        calls = [net._test_gates(x) for _ in range(20)]
    # every call (and every sample of a call) has its own draw
    assert len({tuple(gates.flatten().tolist()) for gates in calls}) > 15
    assert any(not torch.equal(gates[0], gates[1]) for gates in calls)
    net.reseed(7)
    with torch.no_grad():
        again = [net._test_gates(x) for _ in range(20)]
    assert all(torch.equal(a, b) for a, b in zip(calls, again, strict=True))  # same seed, same stream
    context = torch.stack([x[:, :3], x[:, 3:]], 1)
    net.reseed(7)
    with torch.no_grad():
        outputs = [net.predict(context) for _ in range(4)]
    assert any(not torch.equal(outputs[0], other) for other in outputs[1:])
    net.reseed(7)
    with torch.no_grad():
        assert torch.equal(net.predict(context), outputs[0])
    gates = set()
    for seed in range(6):
        model = create_model("dmvfn", routing="sample", seed=seed, features=[8, 8, 8, 8, 8, 8, 8, 8, 8])
        model.routing.load_state_dict(net.routing.state_dict())
        model.l1.load_state_dict(net.l1.state_dict())
        with torch.no_grad():
            gates.add(tuple(model._test_gates(x)[0].tolist()))
    assert len(gates) > 1  # different seeds draw different gates


def test_threshold_routing_runs_blocks_with_probability_at_least_half(net: DMVFN) -> None:
    model = create_model("dmvfn", routing="threshold")
    model.load_state_dict(net.state_dict())
    x = frames(batch=3)
    with torch.no_grad():
        expected = net.routing_probabilities(x) >= 0.5
        assert torch.equal(model._test_gates(x), expected)


def test_router_probabilities_are_normalised(net: DMVFN) -> None:
    with torch.no_grad():
        p = net.routing_probabilities(frames(batch=2))
    assert p.shape == (2, 9)
    assert torch.all(p.sum(1) <= 4.5 + 1e-4) and p.min() >= 0 and p.max() <= 1


def test_router_learns_through_the_straight_through_gates() -> None:
    torch.manual_seed(1)
    model = create_model("dmvfn")
    outputs = model(frames(), SCALES, training=True)
    outputs[-1].mean().backward()
    assert model.l1.weight.grad is not None and model.l1.weight.grad.abs().sum() > 0


def test_predict_falls_back_to_frame_t_minus_1_when_no_block_runs(net: DMVFN, monkeypatch) -> None:
    x = frames()
    monkeypatch.setattr(net, "_test_gates", lambda x: torch.zeros(1, 9, dtype=torch.bool))
    with torch.no_grad():
        prediction = net.predict(torch.stack([x[:, :3], x[:, 3:]], 1))
    assert torch.equal(prediction, x[:, :3])


def test_predict_rejects_sizes_that_are_not_multiples_of_16(net: DMVFN) -> None:
    with pytest.raises(UsageError, match="multiples of 16"):
        net.predict(torch.rand(1, 2, 3, 30, 48))


def test_channels_last_gives_the_same_prediction() -> None:
    torch.manual_seed(2)
    model = create_model("dmvfn", routing="all").eval()
    context = torch.rand(1, 2, 3, 32, 48)
    with torch.inference_mode():
        plain = model.predict(context)
        model.to(memory_format=torch.channels_last)
        fast = model.predict(
            context.reshape(2, 3, 32, 48).contiguous(memory_format=torch.channels_last).view(1, 2, 3, 32, 48)
        )
    torch.testing.assert_close(fast, plain, rtol=0, atol=1e-5)


def test_backward_warp_samples_at_p_plus_flow() -> None:
    image = torch.arange(4 * 6, dtype=torch.float32).view(1, 1, 4, 6)
    flow = torch.zeros(1, 2, 4, 6)
    assert torch.allclose(backward_warp(image, flow), image)
    flow[:, 0] = 1.0  # one pixel to the right: output(x) = image(x + 1), border-clamped
    shifted = backward_warp(image, flow)
    torch.testing.assert_close(shifted[..., :-1], image[..., 1:])
    torch.testing.assert_close(shifted[..., -1], image[..., -1])


def test_config_validation_and_json_round_trip() -> None:
    with pytest.raises(UsageError, match="routing"):
        DMVFNConfig(routing="sometimes")
    config = DMVFNConfig(scales=[4, 2, 1], features=[32, 16, 8])  # lists, as JSON gives them back
    assert (
        config.scales == (4, 2, 1)
        and create_model("dmvfn", scales=[4, 2, 1], features=[32, 16, 8]).num_blocks == 3
    )


def test_no_hard_coded_cuda_calls() -> None:
    source = Path(__file__).resolve().parents[2] / "framepred" / "models" / "dmvfn.py"
    assert ".cuda(" not in source.read_text()


def test_warp_grid_cached_in_inference_mode_serves_training_too() -> None:
    model = create_model("dmvfn")
    x = frames(height=16, width=32)
    with torch.inference_mode():
        model(x, SCALES, training=False)
    model(x, SCALES, training=True)[
        -1
    ].mean().backward()  # would fail on an inference-mode tensor saved for backward
    assert model.block0.lastconv.weight.grad is not None


@pytest.mark.parametrize("blocks", [None, (0, 4, 8), ()])
def test_fixed_gates_path_equals_the_gated_test_path(blocks) -> None:
    torch.manual_seed(3)
    model = create_model("dmvfn", routing="all", blocks=blocks).eval()
    x = frames(batch=2)
    gates = model._test_gates(x)
    expected_blocks = list(range(9)) if blocks is None else list(blocks)
    assert gates[0].nonzero().flatten().tolist() == expected_blocks
    with torch.no_grad():
        gated, _ = model._test_path(x, SCALES, gates)
        fixed = model.predict(torch.stack([x[:, :3], x[:, 3:]], 1))
    torch.testing.assert_close(fixed, gated[-1] if gated else x[:, :3], rtol=0, atol=1e-6)
    assert model.export_problem() is None
    assert create_model("dmvfn", routing="threshold").export_problem() is not None


def test_block_mask_needs_routing_all_and_valid_numbers() -> None:
    with pytest.raises(UsageError, match="routing 'all'"):
        DMVFNConfig(blocks=(1, 2))
    with pytest.raises(UsageError, match="numbered 0 to 8"):
        DMVFNConfig(routing="all", blocks=(9,))
    assert DMVFNConfig(routing="all", blocks=[8, 0, 0]).blocks == (0, 8)
