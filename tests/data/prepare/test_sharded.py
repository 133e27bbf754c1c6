"""`prepare <source> --shard K/N` then `prepare merge`: the same bytes as one unsharded run."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from framepred.cli.app import app
from framepred.data.prepare.frames import prepare_frames
from framepred.data.prepare.kitti import prepare_kitti
from framepred.data.prepare.videos import prepare_videos
from framepred.data.shard_records import SHARDS_FOLDER, merge_tree
from framepred.data.sharding import Shard
from framepred.data.synthetic import SyntheticConfig, prepare_synthetic
from framepred.errors import DataError
from framepred.io.images import write_image
from framepred.io.video import write_video
from tests.data.prepare.raw_trees import make_cityscapes, make_kitti_drive, write_frame
from tests.helpers import random_frames

runner = CliRunner()


def tree_bytes(root: Path) -> dict[str, bytes]:
    """Every file under ``root``, hidden ones included, by relative path."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def sharded(prepare: Callable[..., object], out: Path, count: int) -> None:
    """Tasks 0..count-1 one after another, then the merge."""
    for index in range(count):
        result = prepare(out, Shard(index, count))
        assert result.manifest is None and not (out / "manifest.json").exists()
    merge_tree(out)


@pytest.fixture(scope="module")
def videos(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("videos")
    for index, length in enumerate([9, 4, 6, 12, 3, 7, 5, 8]):  # uneven work, so the split must balance
        write_video(folder / f"clip {index}.mp4", random_frames(length, 32, 48, seed=index), fps=10)
    return folder


@pytest.fixture(scope="module")
def frame_folders(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("frames")
    for index, length in enumerate([5, 2, 7, 3, 4, 6, 2, 3, 5]):
        for t, frame in enumerate(random_frames(length, 20, 28, seed=10 + index)):
            (folder / f"seq{index}").mkdir(exist_ok=True)
            write_image(folder / f"seq{index}" / f"f{t}.png", frame)
    return folder


@pytest.fixture(scope="module")
def kitti_raw(tmp_path_factory) -> Path:
    raw = tmp_path_factory.mktemp("kitti")
    for number, frames in ((60, 10), (84, 12), (93, 9), (96, 11)):  # the four DMVFN test drives
        make_kitti_drive(raw, f"2011_09_26_drive_{number:04d}_sync", frames)
    for drive in ("2011_09_26_drive_0001_sync", "2011_09_26_drive_0002_sync"):
        make_kitti_drive(raw, drive, 9, cameras=("image_02", "image_03"))
    return raw


KITTI_DRIVES = {"train_drives": ["2011_09_26_drive_0001", "2011_09_26_drive_0002"], "test_drives": None}


@pytest.mark.parametrize("count", [1, 3, 7])
def test_videos(videos: Path, tmp_path: Path, count: int) -> None:
    def prepare(out, shard=None):
        return prepare_videos([videos], out, size=(24, 16), fps=5, shard=shard)

    prepare(tmp_path / "whole")
    sharded(prepare, tmp_path / "sharded", count)
    assert tree_bytes(tmp_path / "sharded") == tree_bytes(tmp_path / "whole")


@pytest.mark.parametrize("count", [1, 3, 7])
def test_frames(frame_folders: Path, tmp_path: Path, count: int) -> None:
    def prepare(out, shard=None):
        return prepare_frames(frame_folders, out, split="val", size=(14, 10), shard=shard)

    prepare(tmp_path / "whole")
    sharded(prepare, tmp_path / "sharded", count)
    assert tree_bytes(tmp_path / "sharded") == tree_bytes(tmp_path / "whole")


@pytest.mark.parametrize("count", [1, 3, 7])
def test_kitti(kitti_raw: Path, tmp_path: Path, count: int) -> None:
    def prepare(out, shard=None):
        return prepare_kitti(kitti_raw, out, size=(16, 8), shard=shard, **KITTI_DRIVES)

    prepare(tmp_path / "whole")
    sharded(prepare, tmp_path / "sharded", count)
    whole = tree_bytes(tmp_path / "whole")
    assert tree_bytes(tmp_path / "sharded") == whole
    manifest = json.loads(whole["manifest.json"])  # the per-sequence and protocol fields came through
    assert len(manifest["origins"]) == 8 and manifest["protocol"]["windows"] == {"test": 2 + 4 + 1 + 3}


def test_tasks_write_disjoint_shares_and_merge_names_the_missing(videos: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    shares = []
    for index in (0, 2, 3):  # task 1 of 4 never ran
        result = prepare_videos([videos], out, size=(24, 16), shard=Shard(index, 4))
        shares.append(result.share)
        assert result.written == result.share
    assert sum(shares) == len([p for p in (out / "train").iterdir() if not p.name.startswith(".")])
    with pytest.raises(
        DataError, match=r"1 of 4 tasks of `prepare videos` have not finished \(--shard 1/4\)"
    ):
        merge_tree(out)
    assert not (out / "manifest.json").exists()

    # The missing task, then a rerun of a finished one (it resumes: nothing to do), then the merge.
    assert prepare_videos([videos], out, size=(24, 16), shard=Shard(1, 4)).written > 0
    assert prepare_videos([videos], out, size=(24, 16), shard=Shard(2, 4)).nothing_to_do
    merged = merge_tree(out)
    assert merged.runs[0].tasks == 4 and merged.runs[0].sequences == 8 and merged.written
    assert not (out / SHARDS_FOLDER).exists()
    assert merge_tree(out).runs == []  # nothing left to merge: says so, changes nothing
    whole = tmp_path / "whole"
    prepare_videos([videos], whole, size=(24, 16), workers=2)
    assert tree_bytes(out) == tree_bytes(whole)


def test_a_task_with_other_inputs_is_not_taken_for_one_of_the_run(videos: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    prepare_videos([videos], out, size=(24, 16), shard=Shard(0, 2))
    prepare_videos([videos / "clip 1.mp4", videos / "clip 2.mp4"], out, size=(24, 16), shard=Shard(1, 2))
    with pytest.raises(DataError, match="1 of 2 tasks of `prepare videos` have not finished"):
        merge_tree(out)


def test_a_lost_sequence_is_found_by_merge(frame_folders: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    for index in range(2):
        prepare_frames(frame_folders, out, shard=Shard(index, 2))
    record = next((out / SHARDS_FOLDER).rglob("0001-of-0002.json"))
    lost = json.loads(record.read_text())["sequences"][0]
    (out / lost).rename(out / lost.replace("seq", ".gone"))
    with pytest.raises(DataError, match=rf"{lost}: missing, though task 1/2 .* run --shard 1/2 again"):
        merge_tree(out)


def test_merge_without_records_and_unsharded_rerun_clears_them(frame_folders: Path, tmp_path: Path) -> None:
    with pytest.raises(DataError, match="has no shard records to merge"):
        merge_tree(tmp_path)
    out = tmp_path / "out"
    prepare_frames(frame_folders, out, shard=Shard(0, 3))
    # Finishing the work in one unsharded run instead: the records of the sharded attempt go away.
    result = prepare_frames(frame_folders, out)
    assert result.skipped == 3 and result.manifest is not None
    assert not (out / SHARDS_FOLDER).exists()


def test_synthetic_sharded(tmp_path: Path) -> None:
    config = SyntheticConfig(train=4, test=3, frames=4, width=32, height=32, seed=3)
    prepare_synthetic(tmp_path / "whole", config)
    sharded(lambda out, shard: prepare_synthetic(out, config, shard=shard), tmp_path / "sharded", 3)
    assert tree_bytes(tmp_path / "sharded") == tree_bytes(tmp_path / "whole")


# ---------------------------------------------------------------------------------------- the commands


def _raws(tmp_path: Path) -> dict[str, list[str]]:
    """A miniature raw download for every public source, and the options that prepare it small."""
    cityscapes = make_cityscapes(
        tmp_path / "cityscapes", {"train": {"aachen": [(0, 0), (1, 0)]}}, size=(32, 16)
    )
    ucf = tmp_path / "ucf101" / "jpegs_256"
    for name in ("v_Run_g01_c01", "v_Run_g08_c01", "v_Jump_g09_c02"):
        for t in range(1, 4):
            write_frame(ucf / name / f"frame{t:06d}.jpg", 24, 16)
    for name in ("cows", "dog", "judo"):
        for t in range(3):
            write_frame(tmp_path / "davis" / "JPEGImages" / "480p" / name / f"{t:05d}.jpg", 24, 16)
    entries = ["00001/0001", "00001/0002", "00002/0001"]
    for entry in entries:
        for frame in ("im1.png", "im2.png", "im3.png"):
            write_frame(tmp_path / "vimeo" / "sequences" / entry / frame, 24, 16)
    (tmp_path / "vimeo" / "tri_testlist.txt").write_text(entries[0] + "\n")
    (tmp_path / "vimeo" / "tri_trainlist.txt").write_text("\n".join(entries[1:]) + "\n")
    make_kitti_drive(tmp_path / "kitti", "2011_09_26_drive_0060_sync", 9)
    make_kitti_drive(tmp_path / "kitti", "2011_09_26_drive_0001_sync", 9, cameras=("image_02", "image_03"))
    kitti = ["--train-drives", "2011_09_26_drive_0001", "--test-drives", "2011_09_26_drive_0060"]
    small = ["--size", "16x8"]
    return {
        "cityscapes": [str(cityscapes), *small],
        "kitti": [str(tmp_path / "kitti"), *small, *kitti],
        "ucf101": [str(tmp_path / "ucf101"), *small],
        "davis": [str(tmp_path / "davis"), *small],
        "vimeo": [str(tmp_path / "vimeo"), *small],
    }


@pytest.mark.parametrize("source", ["cityscapes", "kitti", "ucf101", "davis", "vimeo"])
def test_every_public_source_takes_shard_and_merges_through_the_cli(source: str, tmp_path: Path) -> None:
    arguments = _raws(tmp_path)[source]
    whole = runner.invoke(app, ["prepare", source, *arguments, "-o", str(tmp_path / "whole")])
    assert whole.exit_code == 0, whole.output
    out = str(tmp_path / "sharded")
    for index in range(2):
        task = runner.invoke(app, ["prepare", source, *arguments, "-o", out, "--shard", f"{index}/2"])
        assert task.exit_code == 0, task.output
        assert f"task {index}/2" in task.stderr and "framepred prepare merge" in task.stderr
    merged = runner.invoke(app, ["prepare", "merge", out])
    assert merged.exit_code == 0 and f"merged 2 tasks of `prepare {source}`" in merged.stderr
    assert tree_bytes(Path(out)) == tree_bytes(tmp_path / "whole")


def test_cli_shard_auto_from_the_environment_and_missing_task_exit_2(
    frame_folders: Path, tmp_path: Path
) -> None:
    out = str(tmp_path / "out")
    command = ["prepare", "frames", str(frame_folders), "-o", out, "--shard", "auto", "--json"]
    env = {"SLURM_ARRAY_TASK_ID": "2", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_COUNT": "3"}
    result = runner.invoke(app, command, env=env)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["shard"] == "1/3" and summary["manifest"] is None and summary["sequences"] == 9
    missing = runner.invoke(app, ["prepare", "merge", out])
    assert missing.exit_code == 2 and missing.stderr.count("\n") == 1
    assert "2 of 3 tasks of `prepare frames` have not finished (--shard 0/3, 2/3)" in missing.stderr
    outside = runner.invoke(
        app, ["prepare", "frames", str(frame_folders), "-o", out, "--shard", "auto"], env={}
    )
    assert outside.exit_code == 2 and "neither SLURM_ARRAY_TASK_ID" in outside.stderr
    bad = runner.invoke(app, ["prepare", "frames", str(frame_folders), "-o", out, "--shard", "3/3"])
    assert bad.exit_code == 2 and "need 0 <= K < N" in bad.stderr
