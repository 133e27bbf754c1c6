"""`framepred.data.ShardDataset`: memory-mapped random access to `framepred clip` shards."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from framepred.data import ShardDataset
from framepred.data.clips import extract_clips
from framepred.errors import DataError, UsageError
from framepred.io.images import write_image


@pytest.fixture
def clips(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    for name in ["a", "b"]:
        (tmp_path / "data" / name).mkdir(parents=True)
        for t in range(7):
            write_image(
                tmp_path / "data" / name / f"{t:06d}.png", rng.integers(0, 256, (20, 24, 3), dtype=np.uint8)
            )
    extract_clips(tmp_path / "data", tmp_path / "clips", 25, size=8, frames=3, shard_size=10)
    return tmp_path / "clips"


def stored(out: Path) -> np.ndarray:
    return np.concatenate([np.load(p) for p in sorted(out.glob("shard-*.npy"))])


def test_items_are_the_stored_clips_as_float_tensors(clips: Path):
    raw = stored(clips)
    signed, unit = ShardDataset(clips), ShardDataset(clips, value_range="[0,1]")
    assert len(signed) == len(unit) == 25 and (signed.frames, signed.size) == (3, 8)
    for index in [0, 9, 10, 24, -1]:
        expected = torch.from_numpy(raw[index]).permute(0, 3, 1, 2).double()
        item = signed[index]
        assert item.shape == (3, 3, 8, 8) and item.dtype == torch.float32
        torch.testing.assert_close(item.double(), expected / 127.5 - 1, atol=1e-6, rtol=0)
        torch.testing.assert_close(unit[index].double(), expected / 255, atol=1e-6, rtol=0)
    assert signed[0].min() >= -1 and signed[0].max() <= 1
    assert np.array_equal(signed.raw(13), raw[13])
    with pytest.raises(IndexError):
        signed[25]


def test_works_in_a_dataloader_after_pickling(clips: Path):
    dataset = ShardDataset(clips)
    dataset[3]  # opens the memory maps in this process
    copy = pickle.loads(pickle.dumps(dataset))
    assert torch.equal(copy[3], dataset[3])
    batch = next(iter(torch.utils.data.DataLoader(dataset, batch_size=4, shuffle=True)))
    assert batch.shape == (4, 3, 3, 8, 8)


def test_bad_folders_and_options(clips: Path, tmp_path: Path):
    with pytest.raises(UsageError, match="value_range"):
        ShardDataset(clips, value_range="0-255")
    with pytest.raises(DataError, match="manifest.json: not found"):
        ShardDataset(tmp_path)
    np.save(clips / "shard-00001.npy", np.zeros((10, 3, 8, 8, 4), np.uint8))
    with pytest.raises(DataError, match="shard-00001.npy: holds"):
        ShardDataset(clips)
    (clips / "manifest.json").write_text(json.dumps({"format": "something else"}))
    with pytest.raises(DataError, match="not a framepred clip manifest"):
        ShardDataset(clips)
