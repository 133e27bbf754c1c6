"""What a run trains and validates on; checkpoints/best is never chosen on test data."""

import pytest

from framepred.engine.config import TrainConfig
from framepred.engine.data import open_training_data
from framepred.engine.trainer import train
from framepred.errors import DataError, UsageError
from framepred.tasks import create_task
from tests.engine.engine_helpers import moving_squares_tree, tiny_config, tiny_options


def _tree(root, splits):
    return moving_squares_tree(root, frames=6, splits=splits)


def _data(tree, **config):
    values = {"task": "dmvfn", "data": str(tree), "steps": 1, **config}
    return open_training_data(TrainConfig(**values), create_task("dmvfn", **tiny_options()))


def test_train_and_val_splits_are_used_and_test_is_never_trained_on(tmp_path):
    tree = _tree(tmp_path / "t", {"train": 3, "val": 1, "test": 2})
    data = _data(tree)
    assert {w.sequence.split for w in data.dataset.windows} == {"train"}
    assert {s.split for s in data.validation} == {"val"} and data.selects_best


def test_without_a_val_split_part_of_train_is_held_out_by_sequence(tmp_path):
    tree = _tree(tmp_path / "t", {"train": 10, "test": 2})
    data = _data(tree, val_fraction=0.2)
    held = {s.name for s in data.validation}
    trained = {w.sequence.name for w in data.dataset.windows}
    assert len(held) == 2 and not held & trained and len(trained) == 8
    assert {s.split for s in data.validation} == {"train"} and data.selects_best
    assert "2 of the training sequences, held out (--val-fraction 0.2)" in data.validation_source
    assert {s.name for s in _data(tree, val_fraction=0.2).validation} == held  # a seeded choice


def test_no_validation_at_all_rather_than_on_test(tmp_path):
    tree = _tree(tmp_path / "t", {"train": 3, "test": 2})
    data = _data(tree, val_fraction=0.0)
    assert data.validation == [] and not data.selects_best and data.validation_source == "none"


def test_test_split_validates_for_monitoring_but_never_picks_best(tmp_path):
    tree = _tree(tmp_path / "t", {"train": 3, "test": 1})
    run = tmp_path / "run"
    result = train(tiny_config(tree, run, steps=2, val_every=1, val_split="test"))
    assert result.validation["val_psnr"] > 0 and result.best_psnr is None
    assert (run / "checkpoints" / "last").is_dir() and not (run / "checkpoints" / "best").exists()


def test_bad_splits_and_sizes_fail_up_front(tmp_path):
    tree = _tree(tmp_path / "t", {"train": 2, "val": 1})
    with pytest.raises(UsageError, match="--val-split train is the training split"):
        _data(tree, val_split="train")
    with pytest.raises(DataError, match="no split 'nope' for --train-split"):
        _data(tree, train_split="nope")
    task = create_task("dmvfn", **tiny_options(crop=128))
    with pytest.raises(DataError, match=r"train/train0: frames of 72x72 are smaller than the 128x128 crop"):
        open_training_data(TrainConfig(task="dmvfn", data=str(tree), steps=1), task)
    with pytest.raises(UsageError, match="val-fraction"):
        TrainConfig(task="dmvfn", data=str(tree), steps=1, val_fraction=1.5).validate()
