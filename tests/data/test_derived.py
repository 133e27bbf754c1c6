"""Derived trees: clips paired with the frames they were made from, augmented together; clear errors
when the source is gone or does not match."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from framepred.data.augment import AugmentOptions
from framepred.data.derived import DERIVED_FROM, source_sequence, with_source_frames
from framepred.data.tree import FrameTree, SequenceWriter
from framepred.data.window_dataset import WindowDataset, find_windows
from framepred.errors import DataError
from tests.engine.engine_helpers import moving_squares_tree


def _inverted(source, out):
    """A derived tree: every frame inverted (255 - x), its manifest naming the source."""
    for sequence in FrameTree(source).sequences():
        with SequenceWriter(out, sequence.split, sequence.name) as writer:
            for frame in sequence.read_all():
                writer.write(255 - frame)
    (out / "manifest.json").write_text(json.dumps({DERIVED_FROM: "../frames"}))
    return out


@pytest.fixture
def trees(tmp_path):
    source = moving_squares_tree(tmp_path / "frames", sequences=2, frames=6, size=40)
    return source, _inverted(source, tmp_path / "derived")


def test_clips_hold_the_derived_frames_then_their_sources_augmented_together(trees):
    _, derived = trees
    windows = with_source_frames(find_windows(FrameTree(derived).sequences("train"), 3))
    dataset = WindowDataset(windows, 3, AugmentOptions(crop=24, rotate=False, channel_swap=False), seed=1)
    for epoch in range(3):
        clip = dataset[(epoch, 1)].numpy()
        assert clip.shape == (6, 3, 24, 24)
        assert np.array_equal(clip[:3], 255 - clip[3:])  # same crop and flips for both halves


def test_a_missing_or_different_source_is_named(trees):
    source, derived = trees
    sequence = FrameTree(derived).sequences("train")[0]
    assert source_sequence(sequence).path == source / "train" / sequence.name
    (source / "train" / sequence.name / "000005.png").unlink()
    with pytest.raises(DataError, match="has 6 frames but its source .* has 5"):
        source_sequence(sequence)
    shutil.rmtree(source / "train" / sequence.name)
    with pytest.raises(DataError, match="its source .* is missing"):
        source_sequence(sequence)
    shutil.rmtree(source)
    with pytest.raises(DataError, match="no longer exists"):
        source_sequence(sequence)
