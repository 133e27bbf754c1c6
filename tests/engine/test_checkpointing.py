import os
import random

import numpy as np
import pytest
import torch

from framepred.engine import checkpointing
from framepred.engine.checkpointing import load_checkpoint, recover, rng_state, save_checkpoint, set_rng_state
from framepred.engine.logging import truncate_metrics
from framepred.errors import CheckpointError
from framepred.models import create_model

TINY = {"features": [4] * 9}


def _model(seed):
    torch.manual_seed(seed)
    return create_model("dmvfn", **TINY)


def test_round_trip_with_weights_only_state(tmp_path):
    model = _model(0)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    model.block0.conv0[0][0].weight.sum().backward()
    optimizer.step()
    save_checkpoint(
        tmp_path / "last", model, {"optimizer": optimizer.state_dict(), "rng": rng_state()}, step=3
    )
    loaded, state = load_checkpoint(tmp_path / "last")  # torch.load(weights_only=True) inside
    for a, b in zip(model.state_dict().values(), loaded.model.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    assert state["optimizer"]["state"]


def test_the_step_is_written_into_the_weights_metadata(tmp_path):
    save_checkpoint(tmp_path / "last", _model(0), {}, step=17)
    loaded, _ = load_checkpoint(tmp_path / "last")
    assert loaded.meta["step"] == "17"


def test_rng_states_restore_every_generator():
    state = rng_state()
    first = (torch.rand(3), np.random.rand(3), random.random())
    set_rng_state(state)
    again = (torch.rand(3), np.random.rand(3), random.random())
    assert torch.equal(first[0], again[0]) and np.array_equal(first[1], again[1]) and first[2] == again[2]


def test_kill_between_the_two_renames_keeps_the_old_checkpoint(tmp_path, monkeypatch):
    old_model, new_model = _model(0), _model(1)
    save_checkpoint(tmp_path / "last", old_model, {"position": 1}, step=1)
    real_replace = os.replace

    def dies_before_the_new_folder_lands(src, dst):
        if str(dst) == str(tmp_path / "last"):
            raise KeyboardInterrupt  # stands for the process dying after the old folder moved aside
        real_replace(src, dst)

    monkeypatch.setattr(checkpointing.os, "replace", dies_before_the_new_folder_lands)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(tmp_path / "last", new_model, {"position": 2}, step=2)
    monkeypatch.setattr(checkpointing.os, "replace", real_replace)
    assert not (tmp_path / "last").exists() and (tmp_path / ".last.old").is_dir()
    restored, state = load_checkpoint(tmp_path / "last")
    assert state["position"] == 1  # recovered from .last.old
    assert torch.equal(restored.model.l1.weight, old_model.l1.weight)
    assert not list(tmp_path.glob(".last.*"))


def test_recover_clears_partial_folders(tmp_path):
    (tmp_path / ".last.tmp-1-abc").mkdir()
    (tmp_path / "last").mkdir()
    (tmp_path / ".last.old").mkdir()
    recover(tmp_path / "last")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last"]


def test_missing_checkpoint_is_a_clear_error(tmp_path):
    with pytest.raises(CheckpointError, match="without --resume"):
        load_checkpoint(tmp_path / "last")


def test_metrics_truncation_drops_rows_after_the_checkpoint_and_partial_lines(tmp_path):
    path = tmp_path / "metrics.csv"
    path.write_text("kind,step,loss\ntrain,1,0.5\ntrain,2,0.4\nval,2,\ntrain,3,0.3\ntrain,4,0.")
    truncate_metrics(path, 2)
    assert path.read_text() == "kind,step,loss\ntrain,1,0.5\ntrain,2,0.4\nval,2,\n"
