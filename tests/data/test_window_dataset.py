import numpy as np
import pytest
import torch

from framepred.data.augment import AugmentOptions, augment_clip
from framepred.data.tree import FrameTree, SequenceWriter
from framepred.data.window_dataset import WindowDataset, epoch_batches, find_windows
from framepred.errors import DataError


def _tree(root, sequences=2, frames=7, size=(40, 48)):
    rng = np.random.default_rng(0)
    for s in range(sequences):
        with SequenceWriter(root, "train", f"seq{s}") as writer:
            for _ in range(frames):
                writer.write(rng.integers(0, 256, (*size, 3), dtype=np.uint8))
    return FrameTree(root)


def test_augmentation_is_identical_across_the_clip():
    frames = np.repeat(np.random.default_rng(1).integers(0, 256, (1, 40, 48, 3), dtype=np.uint8), 4, axis=0)
    for seed in range(20):
        out = augment_clip(frames, AugmentOptions(crop=32), np.random.default_rng(seed))
        assert out.shape == (4, 32, 32, 3) and out.flags.c_contiguous
        assert all(np.array_equal(out[0], out[k]) for k in range(1, 4))


def test_augmentation_covers_rotations_swaps_and_flips():
    base = np.arange(2 * 2 * 3, dtype=np.uint8).reshape(1, 2, 2, 3)
    seen = {
        augment_clip(base, AugmentOptions(crop=None), np.random.default_rng(s)).tobytes() for s in range(400)
    }
    # 4 rotations x 4 flip combinations collapse to the 8 symmetries of a square, times 2 channel orders.
    assert len(seen) == 16


def test_crop_larger_than_frames_is_an_error():
    with pytest.raises(DataError, match="--crop"):
        augment_clip(np.zeros((3, 16, 16, 3), np.uint8), AugmentOptions(crop=32), np.random.default_rng(0))


def test_dataset_is_deterministic_and_decodes_clips(tmp_path):
    tree = _tree(tmp_path)
    windows = find_windows(tree.sequences("train"), 3)
    assert [(w.sequence.name, w.start) for w in windows] == [(f"seq{s}", k) for s in range(2) for k in (0, 3)]
    dataset = WindowDataset(windows, 3, AugmentOptions(crop=32), seed=5)
    a, b = dataset[(0, 1)], dataset[(0, 1)]
    assert a.shape == (3, 3, 32, 32) and a.dtype == torch.uint8
    assert torch.equal(a, b)
    assert not torch.equal(a, dataset[(1, 1)])  # a new epoch draws a new augmentation
    plain = WindowDataset(
        windows, 3, AugmentOptions(crop=None, rotate=False, channel_swap=False, flip=False), 0
    )
    assert torch.equal(plain[(0, 2)][1].permute(1, 2, 0), torch.from_numpy(windows[2].sequence.read(1)))
    with pytest.raises(DataError, match="--clip-frames"):
        find_windows(tree.sequences("train"), 8)


def test_epoch_batches_split_ranks_without_overlap():
    full = epoch_batches(10, 2, epoch=3, seed=1)
    assert len(full) == 5 and sorted(sum(full, [])) == list(range(10))
    assert full == epoch_batches(10, 2, epoch=3, seed=1)
    assert full != epoch_batches(10, 2, epoch=4, seed=1)
    r0, r1 = (epoch_batches(10, 2, 3, 1, rank=r, world_size=2) for r in (0, 1))
    assert len(r0) == len(r1) == 2
    assert not set(sum(r0, [])) & set(sum(r1, []))
    with pytest.raises(DataError, match="--batch-size"):
        epoch_batches(3, 2, 0, 0, world_size=2)


def test_workers_deliver_the_same_clips(tmp_path):
    from torch.utils.data import DataLoader

    tree = _tree(tmp_path)
    dataset = WindowDataset(find_windows(tree.sequences("train"), 3), 3, AugmentOptions(crop=32), seed=9)
    batches = [[(2, 0), (2, 3)], [(2, 1), (2, 2)]]
    direct = [torch.stack([dataset[k] for k in batch]) for batch in batches]
    loaded = list(DataLoader(dataset, batch_sampler=batches, num_workers=2))
    assert all(torch.equal(a, b) for a, b in zip(direct, loaded, strict=True))
