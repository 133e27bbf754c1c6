"""Every registered model, the day it is registered: a forward at an odd frame size through Predictor,
and a save/load round trip that gives the same prediction."""

import numpy as np
import pytest
import torch

import tests.engine.toy_gan  # noqa: F401  (a plugin model goes through the same tests)
import tests.engine.toy_staged  # noqa: F401
from framepred.inference.predictor import Predictor
from framepred.models import create_model, list_models, load_model, model_entry, save_model


def _small(name):
    torch.manual_seed(0)
    return create_model(name, **model_entry(name).small)


def _frames(count, height=37, width=53):
    rng = np.random.default_rng(1)
    return [rng.integers(0, 256, (height, width, 3), dtype=np.uint8) for _ in range(count)]


@pytest.mark.parametrize("name", list_models())
def test_predicts_any_frame_size(name):
    predictor = Predictor(_small(name), device="cpu")
    frames = _frames(predictor.context_frames)
    prediction = predictor.predict(frames)
    assert prediction.shape == (37, 53, 3) and prediction.dtype == np.uint8


@pytest.mark.parametrize("name", list_models())
def test_save_load_round_trip(name, tmp_path):
    model = _small(name)
    path = tmp_path / f"{name}.safetensors"
    save_model(model, path)
    loaded = load_model(path)
    assert loaded.name == name
    for key, value in model.state_dict().items():
        assert torch.equal(loaded.model.state_dict()[key], value), key
    frames = _frames(model.context_frames)
    first = Predictor(model.eval(), device="cpu").predict(frames)
    again = Predictor(loaded.model, device="cpu").predict(frames)
    assert np.array_equal(first, again)
