"""Predictor: padding, colour order, recursion and streaming, for DMVFN and the baselines."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
import torch

import framepred
from framepred.engine.device import resolve_device
from framepred.errors import DataError, UsageError
from framepred.inference import Predictor
from framepred.inference.predictor import to_uint8
from framepred.models import create_model, save_model


def random_frames(count: int, height: int, width: int, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, (height, width, 3), dtype=np.uint8) for _ in range(count)]


def dmvfn(seed: int = 0, routing: str = "all"):
    torch.manual_seed(seed)
    return create_model("dmvfn", routing=routing)


def copying_dmvfn(mask_bias: float):
    """A real DMVFN whose blocks output zero flow and a large mask: the prediction is exactly one
    of the two input frames (mask > 0 picks frame t-1, mask < 0 frame t)."""
    model = dmvfn()
    with torch.no_grad():
        for block in model.blocks():
            block.lastconv.weight.zero_()
            block.lastconv.bias.copy_(torch.tensor([0.0, 0.0, 0.0, 0.0, mask_bias]))
    return model


@pytest.mark.parametrize("size", [(37, 45), (17, 16), (32, 48)])
def test_padding_round_trip_on_any_size(size) -> None:
    older, newer = random_frames(2, *size)
    predictor = Predictor(copying_dmvfn(mask_bias=-30.0), "RGB", "cpu")
    prediction = predictor.predict([older, newer])
    assert prediction.shape == (*size, 3) and prediction.dtype == np.uint8
    np.testing.assert_array_equal(prediction, newer)  # no shift, no blur from padding and cropping
    np.testing.assert_array_equal(Predictor(copying_dmvfn(30.0), "RGB", "cpu").predict([older, newer]), older)


def test_bgr_weights_see_bgr_and_users_get_rgb() -> None:
    frames = random_frames(2, 32, 48, seed=1)
    model = dmvfn(seed=3)
    rgb_result = Predictor(model, "RGB", "cpu").predict(frames)
    bgr_result = Predictor(model, "BGR", "cpu").predict(frames)
    # Giving the BGR predictor RGB frames must equal feeding the network the swapped frames by hand.
    by_hand = Predictor(model, "RGB", "cpu").predict([f[..., ::-1].copy() for f in frames])[..., ::-1]
    np.testing.assert_array_equal(bgr_result, by_hand)
    assert not np.array_equal(bgr_result, rgb_result)  # the network is not colour-symmetric


def test_uses_the_last_context_frames_oldest_first() -> None:
    frames = [np.full((8, 8, 3), value, np.uint8) for value in (0, 10, 20)]
    predictor = Predictor.from_name("linear", device="cpu")
    assert predictor.predict(frames)[0, 0, 0] == 30  # 2 * 20 - 10


def test_rollout_is_recursive_and_has_the_requested_length() -> None:
    frames = [np.full((8, 8, 3), value, np.uint8) for value in (10, 20)]
    rollout = Predictor.from_name("linear", device="cpu").rollout(frames, steps=4)
    assert [int(frame[0, 0, 0]) for frame in rollout] == [30, 40, 50, 60]


def test_rollout_streams_one_prediction_per_frame_taken() -> None:
    model = dmvfn()
    calls = []
    model.block0.conv1.register_forward_hook(lambda *args: calls.append(1))
    rollout = Predictor(model, "RGB", "cpu").rollout(random_frames(2, 32, 48), steps=50)
    assert inspect.isgenerator(rollout) and calls == []
    next(rollout)
    next(rollout)
    assert len(calls) == 2  # nothing is computed ahead of what the caller takes
    rollout.close()


def test_rollout_keeps_the_context_in_float() -> None:
    frames = random_frames(2, 32, 48, seed=4)
    predictor = Predictor(dmvfn(seed=5), "BGR", "cpu")
    context = (torch.from_numpy(np.stack(frames)).permute(0, 3, 1, 2).float() / 255.0)[None]
    first = predictor.predict_batch(context)
    second = predictor.predict_batch(torch.cat([context[:, 1:], first[:, None]], 1))
    rolled = list(predictor.rollout(frames, steps=2))
    np.testing.assert_array_equal(rolled[0], to_uint8(first[0]))
    np.testing.assert_array_equal(rolled[1], to_uint8(second[0]))


def test_predict_batch_matches_single_predictions() -> None:
    predictor = Predictor(dmvfn(seed=6, routing="threshold"), "RGB", "cpu")
    context = torch.rand(2, 2, 3, 20, 36)
    batch = predictor.predict_batch(context)
    assert batch.shape == (2, 3, 20, 36) and batch.dtype == torch.float32
    for index in range(2):
        torch.testing.assert_close(
            batch[index : index + 1], predictor.predict_batch(context[index : index + 1])
        )


def test_sample_routing_draws_fresh_gates_per_call_and_repeats_for_the_same_seed() -> None:
    model = dmvfn(seed=8, routing="sample")
    frames = random_frames(2, 32, 48, seed=9)
    first = Predictor(model, "RGB", "cpu", seed=5)
    calls = [first.predict(frames) for _ in range(4)]
    assert any(not np.array_equal(calls[0], other) for other in calls[1:])  # one stream, advanced
    rolled = list(first.rollout(frames, 3))
    # A new Predictor with the same seed starts the same stream: the same frames, call for call.
    again = Predictor(model, "RGB", "cpu", seed=5)
    for expected in calls:
        np.testing.assert_array_equal(again.predict(frames), expected)
    for got, expected in zip(again.rollout(frames, 3), rolled, strict=True):
        np.testing.assert_array_equal(got, expected)
    other = Predictor(model, "RGB", "cpu", seed=6)
    assert any(not np.array_equal(other.predict(frames), c) for c in calls)
    # Without a seed a Predictor starts from the model's own (the config's 1234).
    default, explicit = Predictor(model, "RGB", "cpu"), None
    first_default = default.predict(frames)
    explicit = Predictor(model, "RGB", "cpu", seed=1234)
    np.testing.assert_array_equal(explicit.predict(frames), first_default)


def test_from_checkpoint_with_routing_override(tmp_path) -> None:
    path = tmp_path / "model.safetensors"
    save_model(dmvfn(seed=2), path, colour_order="BGR")
    predictor = framepred.Predictor.from_checkpoint(path, device="auto", routing="threshold")
    assert predictor.colour_order == "BGR" and predictor.model.config.routing == "threshold"
    assert predictor.device == torch.device("cpu") or torch.cuda.is_available()


def test_baselines_use_the_same_code_path() -> None:
    frames = random_frames(2, 9, 7)
    np.testing.assert_array_equal(Predictor.from_name("copy-last", device="cpu").predict(frames), frames[1])


def test_bad_context_is_a_data_error() -> None:
    predictor = Predictor.from_name("copy-last", device="cpu")
    with pytest.raises(DataError, match="at least 2"):
        predictor.predict(random_frames(1, 8, 8))
    with pytest.raises(DataError, match="differ in size"):
        predictor.predict(random_frames(1, 8, 8) + random_frames(1, 8, 9))
    with pytest.raises(DataError, match="uint8"):
        predictor.predict([np.zeros((8, 8, 3), np.float32)] * 2)
    with pytest.raises(UsageError, match="steps"):
        next(predictor.rollout(random_frames(2, 8, 8), steps=0))


def test_resolve_device() -> None:
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(UsageError, match="unknown device"):
        resolve_device("gpu0")
    if not torch.cuda.is_available():
        with pytest.raises(UsageError, match="no CUDA GPU"):
            resolve_device("cuda:0")


class _Counts(torch.nn.Module):
    """Predicts K frames per call: frame k of a call is (last context frame + k + 1) / 255."""

    context_frames = 2
    size_multiple = 1
    frames_per_call = 3

    def predict_many(self, context):
        last = context[:, -1:]
        return torch.cat([last + (k + 1) / 255.0 for k in range(self.frames_per_call)], 1)

    def predict(self, context):
        return self.predict_many(context)[:, 0]


def test_models_that_predict_several_frames_per_call_roll_out_in_order():
    predictor = Predictor(_Counts(), device="cpu")
    frames = [np.full((5, 7, 3), v, np.uint8) for v in (10, 20)]
    rolled = [int(f[0, 0, 0]) for f in predictor.rollout(frames, 7)]
    assert rolled == [21, 22, 23, 24, 25, 26, 27]  # each call continues from the newest frame
    assert int(predictor.predict(frames)[0, 0, 0]) == 21
    batch = predictor.rollout_batch(torch.full((2, 2, 3, 5, 7), 20 / 255.0), 4)
    assert batch.shape == (2, 4, 3, 5, 7)
    assert torch.allclose(batch[:, :, 0, 0, 0] * 255, torch.tensor([21.0, 22, 23, 24]).expand(2, 4))
