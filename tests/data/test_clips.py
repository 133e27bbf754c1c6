"""`framepred.data.clips`: the motion filter, the shard format, determinism, resume, statistics."""

from __future__ import annotations

import argparse
import importlib.util
import json
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from framepred.data.clips import extract_clips
from framepred.data.clips.motion import (
    SQUARE_SCALE,
    choose_trials,
    crop_sums,
    cut_crops,
    integral_image,
    pair_energy,
)
from framepred.data.clips.plan import make_units, plan_counts, starts_per_unit
from framepred.errors import DataError, UsageError
from framepred.io.images import list_images, read_image, write_image

BASELINE = Path(__file__).resolve().parents[2].parent / "shared" / "bench" / "baseline_process_data.py"


def moving_squares(folder: Path, frames: int, height: int = 40, width: int = 56, seed: int = 0) -> None:
    """A static noisy background with one textured square drifting 3 px per frame."""
    rng = np.random.default_rng(seed)
    background = rng.integers(60, 200, (height, width, 3), dtype=np.uint8)
    texture = rng.integers(0, 256, (12, 12, 3), dtype=np.uint8)
    folder.mkdir(parents=True)
    for t in range(frames):
        frame = background.copy()
        y, x = 4 + t % 20, 3 * t % (width - 12)
        frame[y : y + 12, x : x + 12] = texture
        write_image(folder / f"{t:06d}.png", frame)


@pytest.fixture
def frame_folders(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    moving_squares(data / "a", 9, seed=1)
    moving_squares(data / "b", 12, seed=2)
    moving_squares(data / "c", 7, height=48, width=40, seed=3)  # another frame size is fine
    moving_squares(data / "short", 3, seed=4)  # fewer than 5 frames: skipped and counted
    return data


def motion(clips: np.ndarray) -> np.ndarray:
    """The original criterion computed the slow way: [-1,1] floats, sum of squared consecutive differences."""
    values = clips.astype(np.float64) / 127.5 - 1.0
    return np.square(np.diff(values, axis=1)).sum(axis=(1, 2, 3, 4))


def read_shards(out: Path) -> np.ndarray:
    manifest = json.loads((out / "manifest.json").read_text())
    return np.concatenate([np.load(out / shard["file"]) for shard in manifest["shards"]])


# ---------------------------------------------------------------- the motion filter and the cutter


def test_integral_crop_sums_equal_the_float_criterion():
    rng = np.random.default_rng(0)
    window = rng.integers(0, 256, (5, 30, 41, 3), dtype=np.uint8)
    energy = sum(pair_energy(window[t], window[t + 1]) for t in range(4))
    table = integral_image(energy)
    ys, xs = rng.integers(0, 30 - 8 + 1, 50), rng.integers(0, 41 - 8 + 1, 50)
    fast = crop_sums(table, ys, xs, 8) / SQUARE_SCALE
    slow = motion(cut_crops(window, ys, xs, 8))
    np.testing.assert_allclose(fast, slow, rtol=1e-12)


def test_cut_crops_takes_the_right_pixels():
    window = np.random.default_rng(1).integers(0, 256, (3, 20, 25, 3), dtype=np.uint8)
    ys, xs = np.array([0, 12, 5]), np.array([17, 0, 9])
    crops = cut_crops(window, ys, xs, 8)
    assert crops.shape == (3, 3, 8, 8, 3) and crops.flags.c_contiguous
    for crop, y, x in zip(crops, ys, xs):
        assert np.array_equal(crop, window[:, y : y + 8, x : x + 8])


def test_choose_trials_follows_the_original_rule():
    threshold = 1.0
    above = threshold * SQUARE_SCALE + 1  # uint8-scale score just over the threshold
    scores = np.array([[0, 0, above, above], [0, 0, 0, 0], [0, above, 0, 0], [0, 0, 0, 0]], dtype=np.float64)
    take_first = np.array([False, False, False, True])
    chosen, tries, passed = choose_trials(scores, take_first, threshold)
    assert chosen.tolist() == [2, 3, 1, 0]  # first passing; last when none passes; take-first keeps trial 0
    assert tries.tolist() == [3, 4, 2, 1]
    assert passed.tolist() == [True, False, True, False]
    # A score exactly at the threshold does not pass ("exceeds").
    _, _, at = choose_trials(np.array([[threshold * SQUARE_SCALE]]), np.array([False]), threshold)
    assert not at[0]


def test_plan_counts_and_units_cover_every_clip_once():
    plan = plan_counts([9, 12, 7], 1000, 5, seed=3)
    assert [len(p) for p in plan] == [5, 8, 3] and sum(int(p.sum()) for p in plan) == 1000
    units = make_units(plan, [2, 3, 8])
    assert sum(u.total for u in units) == 1000
    assert [u.offset for u in units] == list(np.cumsum([0] + [u.total for u in units[:-1]]))
    assert plan_counts([9, 12, 7], 1000, 5, seed=3)[1].tolist() == plan[1].tolist()


def test_units_fit_the_memory_budget():
    budget = 256 << 20
    starts = starts_per_unit(360, 640, 5, budget)
    assert (starts + 4) * 360 * 640 * (3 + 4) <= budget < (starts + 5) * 360 * 640 * (3 + 4)
    assert starts_per_unit(4320, 7680, 5, budget) == 8  # huge frames: a floor, not zero


# ---------------------------------------------------------------- output format and determinism


def test_shards_and_manifest(frame_folders: Path, tmp_path: Path):
    out = tmp_path / "clips"
    result = extract_clips(frame_folders, out, 50, shard_size=16, seed=1)
    manifest = json.loads((out / "manifest.json").read_text())
    assert [s["file"] for s in manifest["shards"]] == [f"shard-{k:05d}.npy" for k in range(4)]
    assert [s["count"] for s in manifest["shards"]] == [16, 16, 16, 2]
    assert (manifest["count"], manifest["frames"], manifest["size"]) == (50, 5, 32)
    assert manifest["source"]["sequences"] == 3 and manifest["source"]["skipped_short"] == 1
    assert manifest["options"]["threshold"] == 100.0 and manifest["options"]["take_first"] == 0.05
    assert result["made"] == 50 and result["resumed_shards"] == 0
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json"] + [
        f"shard-{k:05d}.npy" for k in range(4)
    ]
    for shard in manifest["shards"]:
        array = np.load(out / shard["file"], mmap_mode="r")
        assert array.dtype == np.uint8 and array.shape == (shard["count"], 5, 32, 32, 3)
    # Every clip is a real crop of 5 consecutive frames of some input sequence.
    frames = {f.name: np.stack([read_image(p) for p in list_images(f)]) for f in frame_folders.iterdir()}
    for clip in read_shards(out)[:10]:
        assert any(_found_in(clip, video) for video in frames.values())


def _found_in(clip: np.ndarray, video: np.ndarray) -> bool:
    size = clip.shape[1]
    for t in range(len(video) - len(clip) + 1):
        for y in range(video.shape[1] - size + 1):
            for x in range(video.shape[2] - size + 1):
                if np.array_equal(video[t : t + len(clip), y : y + size, x : x + size], clip):
                    return True
    return False


def test_statistics_in_the_manifest_match_the_shards(frame_folders: Path, tmp_path: Path):
    out = tmp_path / "clips"
    result = extract_clips(frame_folders, out, 300, size=16, threshold=30.0, trials=4, shard_size=64)
    scores = motion(read_shards(out))
    assert result["stats"]["passed_fraction"] == pytest.approx(np.mean(scores > 30.0), abs=1e-12)
    assert result["stats"]["mean_motion"] == pytest.approx(scores.mean(), rel=1e-9)
    assert 1.0 <= result["stats"]["mean_tries"] <= 4.0


def test_same_bytes_for_any_worker_count_and_memory_budget(frame_folders: Path, tmp_path: Path):
    options = dict(size=16, seed=7, shard_size=13)
    extract_clips(frame_folders, tmp_path / "one", 200, workers=1, **options)
    extract_clips(frame_folders, tmp_path / "two", 200, workers=2, memory_mb=0, **options)  # many small units
    for shard in sorted((tmp_path / "one").glob("shard-*.npy")):
        assert shard.read_bytes() == (tmp_path / "two" / shard.name).read_bytes()
    extract_clips(frame_folders, tmp_path / "other", 200, workers=1, size=16, seed=8, shard_size=13)
    assert not np.array_equal(read_shards(tmp_path / "one"), read_shards(tmp_path / "other"))


def test_more_clips_than_the_videos_hold(frame_folders: Path, tmp_path: Path):
    # A 44 px crop fits only the 48x64 sequence (3 starts, 5 x 21 positions), so 2,000 clips repeat;
    # the 40x56 and 48x40 sequences are too small for it and are skipped and counted.
    moving_squares(frame_folders / "wide", 7, height=48, width=64, seed=5)
    result = extract_clips(frame_folders, tmp_path / "clips", 2000, size=44, shard_size=500)
    clips = read_shards(tmp_path / "clips")
    assert result["count"] == 2000 and clips.shape == (2000, 5, 44, 44, 3)
    assert len({clip.tobytes() for clip in clips}) < 2000
    assert (result["source"]["sequences"], result["source"]["skipped_small"]) == (1, 3)
    assert result["source"]["skipped_short"] == 1


# ---------------------------------------------------------------- resume


class _Interrupt(Exception):
    pass


def _stop_after(units: int):
    def progress(iterable, total=None, description=""):
        for done, item in enumerate(iterable):
            if done == units:
                raise _Interrupt
            yield item

    return progress


def test_interrupted_run_resumes_to_the_same_bytes(frame_folders: Path, tmp_path: Path):
    options = dict(size=16, seed=2, shard_size=10, memory_mb=0)
    extract_clips(frame_folders, tmp_path / "whole", 120, **options)

    out = tmp_path / "resumed"
    with pytest.raises(_Interrupt):
        extract_clips(frame_folders, out, 120, progress=_stop_after(1), **options)
    assert not (out / "manifest.json").exists()  # written last
    finished = sorted(p.name for p in out.glob("shard-*.npy"))
    assert 0 < len(finished) < 12 and list(out.glob(".shard-*.partial.npy"))
    with pytest.raises(DataError, match="did not finish"):
        from framepred.data.shard_dataset import ShardDataset

        ShardDataset(out)

    # A finished shard damaged after the fact is made again; a stray partial file is ignored.
    damaged = out / finished[0]
    damaged.write_bytes(damaged.read_bytes()[:200])
    result = extract_clips(frame_folders, out, 120, **options)
    assert result["resumed_shards"] == len(finished) - 1
    for shard in sorted((tmp_path / "whole").glob("shard-*.npy")):
        assert shard.read_bytes() == (out / shard.name).read_bytes()
    whole = json.loads((tmp_path / "whole" / "manifest.json").read_text())
    assert json.loads((out / "manifest.json").read_text())["stats"] == whole["stats"]
    assert not list(out.glob(".*"))  # no run state or partial files left

    again = extract_clips(frame_folders, out, 120, **options)  # already complete: nothing to do
    assert again["made"] == 0


def test_killed_run_resumes_to_the_same_bytes(frame_folders: Path, tmp_path: Path):
    """SIGKILL of the main process (workers orphaned mid-unit), then the same command again."""
    options = dict(size=16, seed=4, shard_size=10, memory_mb=0, workers=2)
    extract_clips(frame_folders, tmp_path / "whole", 150, **options)
    out = tmp_path / "killed"
    script = (
        "import os, signal, sys\n"
        "from framepred.data.clips import extract_clips\n"
        "def progress(iterable, total=None, description=''):\n"
        "    for done, item in enumerate(iterable):\n"
        "        if done == 1:  # the first unit's finished shards are in place by now\n"
        "            os.kill(os.getpid(), signal.SIGKILL)\n"
        "        yield item\n"
        f"extract_clips(sys.argv[1], sys.argv[2], 150, progress=progress, **{options!r})\n"
    )
    killed = subprocess.run([sys.executable, "-c", script, str(frame_folders), str(out)], timeout=120)
    assert killed.returncode == -signal.SIGKILL
    assert not (out / "manifest.json").exists() and (out / ".clip-run.json").exists()
    finished = len(list(out.glob("shard-*.npy")))
    assert 0 < finished < 15
    assert extract_clips(frame_folders, out, 150, **options)["resumed_shards"] == finished
    for shard in sorted((tmp_path / "whole").glob("shard-*.npy")):
        assert shard.read_bytes() == (out / shard.name).read_bytes()
    assert not list(out.glob(".*"))


# ---------------------------------------------------------------- bad inputs


def test_bad_inputs(frame_folders: Path, tmp_path: Path):
    with pytest.raises(DataError, match="no such folder"):
        extract_clips(tmp_path / "missing", tmp_path / "o1", 10)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no frame folders"):
        extract_clips(tmp_path / "empty", tmp_path / "o2", 10)
    with pytest.raises(UsageError, match="--size 64"):
        extract_clips(frame_folders, tmp_path / "o3", 10, size=64)
    with pytest.raises(DataError, match="fewer than 20 frames"):
        extract_clips(frame_folders, tmp_path / "o4", 10, frames=20)
    for bad in [dict(count=0), dict(count=-3)]:
        with pytest.raises(UsageError, match="-n must be a positive"):
            extract_clips(frame_folders, tmp_path / "o5", **bad)
    # A NaN threshold failed every motion test in silence, so no clip was filtered for motion.
    bad_options = [("frames", 1), ("trials", 0), ("take_first", 1.5), ("seed", -1), ("workers", 0)]
    for option, value in [*bad_options, ("threshold", float("nan"))]:
        with pytest.raises(UsageError):
            extract_clips(frame_folders, tmp_path / "o6", 10, **{option: value})
    assert not any((tmp_path / name).exists() for name in ["o1", "o2", "o3", "o4", "o5", "o6"])


def test_output_folder_of_another_run_or_with_other_files(frame_folders: Path, tmp_path: Path):
    out = tmp_path / "clips"
    extract_clips(frame_folders, out, 20, size=16)
    with pytest.raises(UsageError, match="other inputs or options"):
        extract_clips(frame_folders, out, 20, size=16, seed=5)
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    with pytest.raises(DataError, match="not empty"):
        extract_clips(frame_folders, foreign, 20, size=16)


def test_more_clips_than_the_disk_holds_is_refused_up_front(frame_folders: Path, tmp_path: Path):
    # A typo like -n 10000000000 used to start creating millions of (sparse) shard files.
    out = tmp_path / "clips"
    with pytest.raises(
        UsageError,
        match=r"clips: 100000000000 clips need 384000 GB, but only \d+ GB are free there; lower -n",
    ):
        extract_clips(frame_folders, out, 10**11, size=16)
    assert not out.exists()


def test_a_run_that_failed_before_any_shard_does_not_block_other_options(frame_folders: Path, tmp_path: Path):
    # Only .clip-run.json was left; "holds clips made from other inputs" made the user delete it by hand.
    out = tmp_path / "clips"
    bad = sorted((frame_folders / "a").glob("*.png"))[3]  # not the first: sizes come from those
    good = bad.read_bytes()
    bad.write_bytes(b"garbage")
    with pytest.raises(DataError, match="not a readable image"):
        extract_clips(frame_folders, out, 20, size=16)
    bad.write_bytes(good)
    assert extract_clips(frame_folders, out, 30, size=16)["count"] == 30


def test_frame_of_another_size_inside_a_sequence(frame_folders: Path, tmp_path: Path):
    write_image(frame_folders / "b" / "000005.png", np.zeros((20, 20, 3), np.uint8))
    with pytest.raises(DataError, match="000005.png"):
        extract_clips(frame_folders, tmp_path / "clips", 400, size=16)


# ---------------------------------------------------------------- statistics against the baseline


@pytest.fixture(scope="module")
def real_frames(tmp_path_factory) -> Path:
    """The real frame folders of ../shared/data resized to one size (the baseline needs one size)."""
    import cv2

    shared = BASELINE.parents[1] / "data"
    folders = (
        [d for d in sorted(shared.iterdir()) if d.is_dir() and list_images(d)] if shared.is_dir() else []
    )
    if not folders:
        pytest.skip(f"real frame folders not found in {shared}")
    root = tmp_path_factory.mktemp("real")
    for folder in folders:
        (root / folder.name).mkdir()
        for index, path in enumerate(list_images(folder)):
            small = cv2.resize(read_image(path), (128, 72), interpolation=cv2.INTER_AREA)
            write_image(root / folder.name / f"{index:06d}.png", small)
    return root


def _baseline():
    if not BASELINE.exists():
        pytest.skip(f"baseline not found at {BASELINE}")
    spec = importlib.util.spec_from_file_location("baseline_process_data", BASELINE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(("threshold", "trials"), [(100.0, 100), (400.0, 3)])
def test_filter_statistics_match_the_baseline(
    real_frames: Path, tmp_path: Path, threshold: float, trials: int
):
    baseline = _baseline()
    args = argparse.Namespace(
        frames_dir=str(real_frames), hist_len=4, crop=32, threshold=threshold, trials=trials,
        take_first_p=0.05, divisor=127.5,
    )  # fmt: skip
    state = np.random.get_state()
    np.random.seed(0)
    try:
        theirs = [baseline.make_clip(args, 72, 128, baseline.Prof(False)) for _ in range(250)]
    finally:
        np.random.set_state(state)
    their_motion = np.array([baseline.motion_score(clip, 4) for clip, _ in theirs])
    their_tries = np.array([tries for _, tries in theirs], dtype=np.float64)

    result = extract_clips(real_frames, tmp_path / "clips", 3000, threshold=threshold, trials=trials, seed=0)
    ours = read_shards(tmp_path / "clips")
    # Score our clips with the baseline's own function, in its layout (size, size, 3 * frames).
    our_motion = np.array([baseline.motion_score(_baseline_layout(c), 4) for c in ours])

    def close(a: np.ndarray, b: np.ndarray) -> None:
        error = np.sqrt(a.var() / len(a) + b.var() / len(b))
        assert abs(a.mean() - b.mean()) < 4 * error + 1e-9, (a.mean(), b.mean(), error)

    close(their_motion > threshold, our_motion > threshold)  # fraction passing
    close(their_motion, our_motion)  # mean motion
    assert result["stats"]["mean_tries"] == pytest.approx(
        their_tries.mean(), abs=4 * np.sqrt(their_tries.var() / len(their_tries)) + 1e-9
    )


def _baseline_layout(clip: np.ndarray) -> np.ndarray:
    values = clip.astype(np.float32) / np.float32(127.5) - np.float32(1.0)
    return values.astype(np.float64).transpose(1, 2, 0, 3).reshape(clip.shape[1], clip.shape[2], -1)


def test_real_frames_of_mixed_sizes(shared_data: Path, tmp_path: Path):
    """The real folders as they are (2048x1024 JPEG to 640x360 PNG): no resizing needed."""
    result = extract_clips(shared_data, tmp_path / "clips", 64, seed=3, shard_size=64)
    assert result["count"] == 64 and result["source"]["sequences"] >= 1
    shutil.rmtree(tmp_path / "clips")


# ---------------------------------------------------------------- sharded runs (--shard K/N, then merge)


def _folder_bytes(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("count", [1, 3, 7])
def test_tasks_one_after_another_then_merged_equal_one_run(frame_folders: Path, tmp_path: Path, count: int):
    from framepred.data.clips import merge_clips
    from framepred.data.sharding import Shard

    # memory_mb=0: units of 8 start frames, so units straddle the tasks' shard files.
    options = dict(size=16, seed=6, shard_size=9, memory_mb=0)
    extract_clips(frame_folders, tmp_path / "whole", 100, **options)
    out = tmp_path / "sharded"
    for index in range(count):
        result = extract_clips(frame_folders, out, 100, shard=Shard(index, count), **options)
        assert not result["merged"] and result["made"] == sum(
            min(9, 100 - 9 * int(name[6:11])) for name in result["shards"]
        )
        assert not (out / "manifest.json").exists()
    merged = merge_clips(out)
    assert merged["tasks"] == count and merged["count"] == 100
    assert _folder_bytes(out) == _folder_bytes(tmp_path / "whole")


def test_merge_names_the_tasks_that_did_not_finish(frame_folders: Path, tmp_path: Path):
    from framepred.data.clips import merge_clips
    from framepred.data.sharding import Shard

    options = dict(size=16, seed=1, shard_size=10, memory_mb=0)
    out = tmp_path / "clips"
    with pytest.raises(DataError, match="has no clip tasks to merge"):
        merge_clips(tmp_path)
    extract_clips(frame_folders, out, 60, shard=Shard(1, 3), **options)
    with pytest.raises(DataError, match=r"2 of 3 clip tasks have not finished \(--shard 0/3, 2/3\)"):
        merge_clips(out)
    # A killed task leaves a state that is not finished: still missing.
    with pytest.raises(_Interrupt):
        extract_clips(frame_folders, out, 60, shard=Shard(0, 3), progress=_stop_after(0), **options)
    with pytest.raises(DataError, match=r"--shard 0/3, 2/3\)"):
        merge_clips(out)
    with pytest.raises(UsageError, match="other inputs or options"):
        extract_clips(frame_folders, out, 60, shard=Shard(2, 3), **{**options, "seed": 2})
    # The killed task resumes; an unsharded run finishes the rest, keeping every finished shard file.
    extract_clips(frame_folders, out, 60, shard=Shard(0, 3), **options)
    result = extract_clips(frame_folders, out, 60, **options)
    assert result["resumed_shards"] == 4 and result["made"] == 20
    assert not list(out.glob(".*"))
    whole = tmp_path / "whole"
    extract_clips(frame_folders, whole, 60, workers=2, **options)
    assert _folder_bytes(out) == _folder_bytes(whole)
    assert merge_clips(out)["tasks"] == 0  # a complete folder: nothing to merge
