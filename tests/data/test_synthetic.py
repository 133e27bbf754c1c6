import hashlib
from pathlib import Path

import numpy as np
import pytest

from framepred.data.synthetic import SyntheticConfig, prepare_synthetic
from framepred.data.tree import FrameTree
from framepred.errors import UsageError


def tree_digest(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.png")):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


SMALL = SyntheticConfig(train=3, test=2, frames=6, width=48, height=32, seed=7)


def test_deterministic_by_seed_and_independent_of_workers(tmp_path: Path) -> None:
    prepare_synthetic(tmp_path / "a", SMALL, workers=1)
    prepare_synthetic(tmp_path / "b", SMALL, workers=2)
    other = SyntheticConfig(**{**SMALL.__dict__, "seed": 8})
    prepare_synthetic(tmp_path / "c", other, workers=1)
    assert tree_digest(tmp_path / "a") == tree_digest(tmp_path / "b")
    assert tree_digest(tmp_path / "a") != tree_digest(tmp_path / "c")


def test_layout_manifest_and_rerun_does_nothing(tmp_path: Path) -> None:
    summary = prepare_synthetic(tmp_path, SMALL)
    assert summary.written == 5 and summary.frames == 30
    tree = FrameTree(tmp_path)
    assert tree.splits() == ["test", "train"]
    assert tree.manifest["frame_size"] == [48, 32]
    train = tree.manifest["splits"]["train"]
    assert (train["sequences"], train["frames"], train["source"]) == (3, 18, "synthetic")
    assert train["options"] == {**SMALL.__dict__, "objects": [2, 5]}
    again = prepare_synthetic(tmp_path, SMALL)
    assert (again.written, again.skipped) == (0, 5)


def test_frames_move_enough_that_copy_last_is_poor(tmp_path: Path) -> None:
    prepare_synthetic(tmp_path, SyntheticConfig(train=4, test=0, frames=5, width=64, height=64, seed=1))
    errors = []
    for sequence in FrameTree(tmp_path).sequences():
        frames = [f.astype(np.float64) / 255 for f in sequence.read_all()]
        errors += [np.mean((b - a) ** 2) for a, b in zip(frames, frames[1:])]
    psnr_copy_last = 10 * np.log10(1 / np.mean(errors))
    # Real driving footage gives copy-last around 20-30 dB; the synthetic set must be at least as hard.
    assert psnr_copy_last < 28


def test_rerun_with_other_options_is_refused_not_silently_skipped(tmp_path: Path) -> None:
    # It used to say "all 5 sequences already prepared; nothing to do" and keep the old frames.
    prepare_synthetic(tmp_path, SMALL)
    for change in ({"seed": 8}, {"width": 64}):
        with pytest.raises(UsageError, match="use the same options"):
            prepare_synthetic(tmp_path, SyntheticConfig(**{**SMALL.__dict__, **change}))
    assert prepare_synthetic(tmp_path, SMALL).skipped == 5
