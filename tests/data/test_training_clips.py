import numpy as np
import pytest
import torch

from framepred.data.augment import AugmentOptions
from framepred.data.training_clips import ClipRule, random_clips, read_clip_rule, windows
from framepred.data.tree import FrameTree, SequenceWriter
from framepred.data.window_dataset import WindowDataset, place_random_window, random_windows
from framepred.errors import DataError

PLAIN = AugmentOptions(crop=None, rotate=False, channel_swap=False, flip=False)


def test_rules_round_trip_through_the_manifest():
    kitti = windows(9, 1, "KITTI")
    assert read_clip_rule({"training_clips": kitti}) == ClipRule(9, 1, origin="KITTI")
    ucf = read_clip_rule({"training_clips": random_clips(10, 5, "UCF")})
    assert (ucf.frames, ucf.random_start, ucf.max_frame_step) == (10, True, 5)
    assert "one 10-frame clip per sequence per epoch" in ucf.describe()
    assert read_clip_rule({}) is None  # a hand-made tree has no rule


@pytest.mark.parametrize(
    "entry", [[9, 1], {"stride": 1}, {"frames": "9"}, {"frames": 0}, {"frames": 9, "max_frame_step": True}]
)
def test_a_malformed_rule_is_a_one_line_data_error(entry):
    with pytest.raises(DataError, match="training_clips.*--clip-frames"):
        read_clip_rule({"training_clips": entry}, "tree/manifest.json")


def test_random_placement_follows_dmvfns_ucf101_loader():
    rng = np.random.default_rng(0)
    for length, largest in ((12, 1), (25, 2), (49, 4), (50, 5), (300, 5)):
        seen_steps, seen_starts = set(), set()
        for _ in range(3000):
            start, step = place_random_window(length, 10, 5, rng)
            assert 1 <= step <= largest and start >= 0 and start + 9 * step <= length - 1
            seen_steps.add(step)
            seen_starts.add((step, start))
        assert seen_steps == set(range(1, largest + 1))
        if length <= 50:  # every start where the clip fits is drawn, for the largest step too
            assert {s for k, s in seen_starts if k == largest} == set(range(length - 9 * largest))


def _numbered_tree(root, lengths):
    """Frames whose pixels hold their own index, so a clip tells which frames it read."""
    for name, length in lengths.items():
        with SequenceWriter(root, "train", name) as writer:
            for index in range(length):
                writer.write(np.full((8, 8, 3), index, np.uint8))
    return FrameTree(root).sequences("train")


def test_random_windows_one_clip_per_sequence_per_epoch_and_exact_by_seed(tmp_path):
    sequences = _numbered_tree(tmp_path, {"short": 9, "a": 30, "b": 60})
    found = random_windows(sequences, 10)
    assert [w.sequence.name for w in found] == ["a", "b"]  # shorter than a clip: none
    assert [w.sequence.name for w in random_windows(sequences, 10, pad=True)] == ["a", "b", "short"]
    dataset = WindowDataset(found, 10, PLAIN, seed=3, max_frame_step=5)
    clips = {}
    for epoch in range(40):
        clip = dataset[(epoch, 1)][:, 0, 0, 0].tolist()
        step = clip[1] - clip[0]
        assert clip == [clip[0] + k * step for k in range(10)] and 1 <= step <= 5
        clips[epoch] = clip
    assert len({c[1] - c[0] for c in clips.values()}) > 1  # the frame step varies by epoch
    assert len({c[0] for c in clips.values()}) > 5  # and so does the start
    again = WindowDataset(random_windows(sequences, 10), 10, PLAIN, seed=3, max_frame_step=5)
    assert all(torch.equal(again[(e, 1)], dataset[(e, 1)]) for e in (0, 7, 39))  # resume reads the same
    other_seed = WindowDataset(found, 10, PLAIN, seed=4, max_frame_step=5)
    assert any(not torch.equal(other_seed[(e, 1)], dataset[(e, 1)]) for e in range(5))
    # a 30-frame sequence allows steps 1..3 only (30 // 10)
    assert {int(dataset[(e, 0)][1, 0, 0, 0]) - int(dataset[(e, 0)][0, 0, 0, 0]) for e in range(60)} == {
        1,
        2,
        3,
    }
