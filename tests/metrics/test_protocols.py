import json
import math

import numpy as np
import pytest

from framepred.data.tree import FrameTree, SequenceWriter, write_manifest
from framepred.errors import DataError, UsageError
from framepred.metrics.evaluate import evaluate_tree
from framepred.metrics.protocols import dmvfn_windows, next_windows, select_windows


def write_tree(root, lengths, values=lambda i: 10 * i, size=(40, 48), manifest=None):
    """Sequences whose frame i is flat grey with value ``values(i)``, so errors are known exactly."""
    for number, length in enumerate(lengths):
        with SequenceWriter(root, "test", f"seq{number}") as writer:
            for i in range(length):
                writer.write(np.full((*size, 3), values(i), dtype=np.uint8))
    if manifest is not None:
        write_manifest(root, manifest)
    return FrameTree(root)


def flat_psnr(difference: float) -> float:
    return 100.0 if difference == 0 else -20.0 * math.log10(abs(difference) / 255.0)


def test_dmvfn_one_window_per_sequence(tmp_path) -> None:
    tree = write_tree(tmp_path, [14, 9, 8])
    windows = dmvfn_windows(tree.sequences("test"), context_frames=2, steps=5)
    assert [(w.sequence.name, w.context, w.targets) for w in windows] == [
        ("seq0", (2, 3), (4, 5, 6, 7, 8)),
        ("seq1", (2, 3), (4, 5, 6, 7, 8)),
    ]  # seq2 has only 8 frames: too short for a 9-frame window


def test_dmvfn_stride_one_windows_from_manifest(tmp_path) -> None:
    manifest = {
        "protocol": {"name": "dmvfn", "window": 9, "stride": 1, "splits": ["test"], "windows": {"test": 4}}
    }
    tree = write_tree(tmp_path, [12], manifest=manifest)
    windows, description = select_windows("dmvfn", tree.sequences("test"), 2, None, tree.manifest)
    assert len(windows) == manifest["protocol"]["windows"]["test"]
    assert [w.context for w in windows] == [(2, 3), (3, 4), (4, 5), (5, 6)]
    assert windows[-1].targets == (7, 8, 9, 10, 11)  # the last window is frames 3..11
    assert description["from_manifest"] and description["windows_per_sequence"] == "every window, stride 1"


def test_dmvfn_more_steps_need_longer_windows(tmp_path) -> None:
    tree = write_tree(tmp_path, [10, 12])
    windows, description = select_windows("dmvfn", tree.sequences("test"), 2, steps=7)
    assert [w.targets for w in windows] == [tuple(range(4, 11))]
    assert description["window"] == 11


def test_dmvfn_short_windows_score_the_frame_after_the_context(tmp_path) -> None:
    # Vimeo triplets: the manifest says 3-frame windows, DMVFN predicts #2 from #0 and #1.
    manifest = {"protocol": {"name": "dmvfn", "window": 3, "stride": None, "splits": ["test"]}}
    tree = write_tree(tmp_path, [3, 3], manifest=manifest)
    windows, description = select_windows("dmvfn", tree.sequences("test"), 2, None, tree.manifest)
    assert [(w.context, w.targets) for w in windows] == [((0, 1), (2,)), ((0, 1), (2,))]
    assert description["steps"] == 1 and description["windows_per_sequence"] == "one"


def test_next_protocol_slides_over_every_frame(tmp_path) -> None:
    tree = write_tree(tmp_path, [5, 3])
    windows = next_windows(tree.sequences("test"), context_frames=2)
    assert [(w.sequence.name, w.context, w.targets) for w in windows] == [
        ("seq0", (0, 1), (2,)),
        ("seq0", (1, 2), (3,)),
        ("seq0", (2, 3), (4,)),
        ("seq1", (0, 1), (2,)),
    ]


def test_bad_protocol_options(tmp_path) -> None:
    tree = write_tree(tmp_path, [9])
    with pytest.raises(UsageError, match="unknown protocol"):
        select_windows("vimeo", tree.sequences(), 2)
    with pytest.raises(UsageError, match="--steps"):
        select_windows("next", tree.sequences(), 2, steps=0)
    with pytest.raises(UsageError, match="at most 4 context frames"):
        select_windows("dmvfn", tree.sequences(), 5)


def test_copy_last_scores_known_values_recursively(tmp_path) -> None:
    write_tree(tmp_path, [9, 9])
    result = evaluate_tree(tmp_path, model="copy-last", metrics="psnr", device="cpu", batch_size=3)
    # Context frames 2, 3 (value 30); copy-last repeats frame 3 at every step, so step k misses
    # frame 3 + k by 10 * k. (Feeding back ground truth instead would miss by 10 at every step.)
    expected = [flat_psnr(10 * k) for k in range(1, 6)]
    assert [row["psnr"] for row in result["per_step"]] == pytest.approx(expected, abs=1e-5)
    cumulative = [sum(expected[:k]) / k for k in range(1, 6)]
    assert [row["psnr"] for row in result["cumulative"]] == pytest.approx(cumulative, abs=1e-5)
    assert result["mean"]["psnr"] == pytest.approx(cumulative[-1], abs=1e-5)
    assert result["count"] == 2
    assert [row["step"] for row in result["per_step"]] == [1, 2, 3, 4, 5]
    json.dumps(result)  # JSON-ready


def test_linear_model_with_copy_last_baseline(tmp_path) -> None:
    write_tree(tmp_path, [10], values=lambda i: 3 * i * i)
    result = evaluate_tree(
        tmp_path, model="linear", baselines=["copy-last"], metrics="psnr,ssim", steps=3, device="cpu"
    )
    # Linear extrapolation from (12, 27): 42, then from (27, 42): 57, then 72; targets 48, 75, 108.
    predictions, previous, last = [], 12.0, 27.0
    for _ in range(3):
        previous, last = last, 2 * last - previous
        predictions.append(last)
    targets = [48, 75, 108]
    expected = [flat_psnr(p - t) for p, t in zip(predictions, targets, strict=True)]
    assert [row["psnr"] for row in result["per_step"]] == pytest.approx(expected, abs=1e-5)
    baseline = result["baselines"]["copy-last"]
    assert [row["psnr"] for row in baseline["per_step"]] == pytest.approx(
        [flat_psnr(27 - t) for t in targets], abs=1e-6
    )
    assert result["settings"]["model"] == "linear" and result["settings"]["steps"] == 3


def test_next_protocol_count_and_limit(tmp_path) -> None:
    write_tree(tmp_path, [6, 4])
    full = evaluate_tree(tmp_path, model="copy-last", protocol="next", metrics="psnr", device="cpu")
    assert full["count"] == 4 + 2
    assert full["per_step"][0]["psnr"] == pytest.approx(flat_psnr(10), abs=1e-5)
    limited = evaluate_tree(
        tmp_path, model="copy-last", protocol="next", metrics="psnr", device="cpu", limit=3
    )
    assert limited["count"] == 3 and limited["settings"]["limit"] == 3


def test_sequences_of_different_sizes_are_batched_apart(tmp_path) -> None:
    write_tree(tmp_path, [9])
    with SequenceWriter(tmp_path, "test", "wide") as writer:
        for i in range(9):
            writer.write(np.full((40, 64, 3), 10 * i, dtype=np.uint8))
    result = evaluate_tree(tmp_path, model="copy-last", metrics="psnr", device="cpu", batch_size=8)
    assert result["count"] == 2


def test_too_short_sequences_and_missing_split(tmp_path) -> None:
    write_tree(tmp_path, [5])
    with pytest.raises(DataError, match="long enough"):
        evaluate_tree(tmp_path, model="copy-last", device="cpu")
    with pytest.raises(DataError, match="no split 'val'"):
        evaluate_tree(tmp_path, model="copy-last", split="val", device="cpu")
    with pytest.raises(UsageError, match="exactly one of --weights"):
        evaluate_tree(tmp_path, device="cpu")


def test_unreadable_frame_in_tree_is_a_clear_error(tmp_path) -> None:
    tree = write_tree(tmp_path, [9])
    broken = tree.sequences("test")[0].frames[5]
    broken.write_bytes(b"this is not a png")
    with pytest.raises(DataError, match="000005.png: not a readable image"):
        evaluate_tree(tmp_path, model="copy-last", metrics="psnr", device="cpu")
