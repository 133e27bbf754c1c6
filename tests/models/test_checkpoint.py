"""Checkpoint files: framepred safetensors, official DMVFN state dicts, and every way they can be wrong."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
import torch

import framepred
from framepred.errors import CheckpointError
from framepred.models import create_model, load_model, save_model


def random_official_state(prefix: str = "module.") -> dict[str, torch.Tensor]:
    """A state dict in the official layout: random weights, DDP's ``module.`` prefix."""
    torch.manual_seed(7)
    model = create_model("dmvfn")
    return {prefix + key: torch.randn_like(value) for key, value in model.state_dict().items()}


class _CreatesFile:
    """Unpickling this runs ``open(path, "w")``: the file appears only if the loader executes code."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self):
        return (open, (str(self.path), "w"))


@pytest.fixture(scope="module")
def official_file(tmp_path_factory) -> tuple[Path, dict[str, torch.Tensor]]:
    state = random_official_state()
    path = tmp_path_factory.mktemp("official") / "dmvfn_city.pkl"
    torch.save(state, path)
    return path, state


def test_official_state_dict_loads_key_for_key(official_file) -> None:
    path, state = official_file
    loaded = load_model(path)
    assert loaded.name == "dmvfn" and loaded.colour_order == "BGR"
    assert loaded.meta["format"] == "official-dmvfn"
    model_state = loaded.model.state_dict()
    assert len(model_state) == len(state) == 240
    for key, value in state.items():
        assert torch.equal(model_state[key[len("module.") :]], value), key


def test_official_state_dict_without_prefix_and_in_the_legacy_format(tmp_path) -> None:
    state = random_official_state(prefix="")
    path = tmp_path / "bare.pth"
    torch.save(state, path, _use_new_zipfile_serialization=False)
    loaded = framepred.load_model(path)
    assert torch.equal(loaded.model.state_dict()["l1.weight"], state["l1.weight"])


def test_routing_override_keeps_the_weights(official_file) -> None:
    path, state = official_file
    loaded = load_model(path, routing="threshold")
    assert loaded.model.config.routing == "threshold"
    assert torch.equal(loaded.model.l1.bias, state["module.l1.bias"])


def test_framepred_safetensors_round_trip(tmp_path, official_file) -> None:
    source = load_model(official_file[0], routing="all", seed=5)
    path = tmp_path / "model.safetensors"
    save_model(source.model, path, colour_order="BGR", extra_meta={"step": 12})
    loaded = load_model(path)
    assert loaded.name == "dmvfn" and loaded.colour_order == "BGR"
    assert loaded.model.config == source.model.config
    assert loaded.meta["framepred.version"] == framepred.__version__ and loaded.meta["step"] == "12"
    for key, value in source.model.state_dict().items():
        assert torch.equal(loaded.model.state_dict()[key], value)
    assert not list(tmp_path.glob(".*"))  # no temporary file left behind


def test_baseline_round_trip(tmp_path) -> None:
    path = tmp_path / "copy.safetensors"
    save_model(create_model("copy-last"), path)
    loaded = load_model(path)
    assert loaded.name == "copy-last" and loaded.colour_order == "RGB"


@pytest.mark.parametrize("wrapped", [False, True], ids=["raw-pickle", "torch-save"])
def test_malicious_pickle_is_refused_and_runs_nothing(tmp_path, wrapped) -> None:
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pkl"
    if wrapped:
        torch.save({"l1.weight": _CreatesFile(marker)}, path)
    else:
        path.write_bytes(pickle.dumps(_CreatesFile(marker), protocol=2))
    with pytest.raises(CheckpointError, match="refused") as error:
        load_model(path)
    assert str(path) in str(error.value)
    assert not marker.exists()


def test_missing_file_and_folder(tmp_path) -> None:
    with pytest.raises(CheckpointError, match="does not exist"):
        load_model(tmp_path / "nope.pkl")
    with pytest.raises(CheckpointError, match="is a folder"):
        load_model(tmp_path)


@pytest.mark.parametrize("content", [b"", b"hello, I am a text file\n", b"\x89PNG\r\n\x1a\n" + bytes(200)])
def test_a_file_that_is_not_a_checkpoint(tmp_path, content) -> None:
    path = tmp_path / "weights.pkl"
    path.write_bytes(content)
    with pytest.raises(CheckpointError) as error:
        load_model(path)
    message = str(error.value)
    assert str(path) in message and "\n" not in message and "refused" not in message


def test_truncated_official_file(tmp_path, official_file) -> None:
    data = official_file[0].read_bytes()
    path = tmp_path / "truncated.pkl"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="damaged"):
        load_model(path)


def test_truncated_safetensors_file(tmp_path) -> None:
    full = tmp_path / "full.safetensors"
    save_model(create_model("dmvfn", features=[8, 8, 8], scales=[4, 2, 1]), full)
    data = full.read_bytes()
    path = tmp_path / "truncated.safetensors"
    path.write_bytes(data[: len(data) - 100])
    with pytest.raises(CheckpointError, match="damaged"):
        load_model(path)


def test_a_checkpoint_of_another_model(tmp_path) -> None:
    path = tmp_path / "other.pth"
    torch.save({"module.encoder.conv.weight": torch.zeros(3, 3, 3, 3)}, path)
    with pytest.raises(CheckpointError, match="not a DMVFN state dict"):
        load_model(path)


def test_a_dict_that_is_not_a_plain_state_dict(tmp_path) -> None:
    path = tmp_path / "wrapped.pth"
    torch.save({"epoch": 3, "state_dict": random_official_state()}, path)
    with pytest.raises(CheckpointError, match="not a plain dict of tensors"):
        load_model(path)


def test_wrong_shapes_are_named(tmp_path) -> None:
    state = random_official_state()
    state["module.block3.conv_sq.0.weight"] = torch.zeros(21, 80, 3, 3)
    path = tmp_path / "bad_shape.pkl"
    torch.save(state, path)
    with pytest.raises(CheckpointError, match=r"block3\.conv_sq\.0\.weight has shape \(21, 80, 3, 3\)"):
        load_model(path)


def test_safetensors_whose_config_does_not_fit_its_weights(tmp_path) -> None:
    from safetensors.torch import save_file

    small = create_model("dmvfn", features=[8, 8, 8], scales=[4, 2, 1])
    path = tmp_path / "mismatch.safetensors"
    tensors = {k: v.contiguous() for k, v in small.state_dict().items()}
    save_file(
        tensors,
        str(path),
        metadata={
            "framepred.model": "dmvfn",
            "framepred.config": '{"features": [12, 8, 8], "scales": [4, 2, 1]}',
        },
    )
    with pytest.raises(CheckpointError, match="has shape"):
        load_model(path)
    save_file(tensors, str(path), metadata={"framepred.model": "nonesuch"})
    with pytest.raises(CheckpointError, match="nonesuch"):
        load_model(path)
    save_file(tensors, str(path))
    with pytest.raises(CheckpointError, match="without framepred metadata"):
        load_model(path)
