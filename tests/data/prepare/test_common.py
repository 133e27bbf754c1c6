from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from framepred.data.prepare.cityscapes import prepare_cityscapes
from framepred.data.prepare.common import (
    PlannedSequence,
    check_consecutive,
    read_list_file,
    windows_per_sequence,
)
from framepred.errors import DataError
from tests.data.prepare.raw_trees import make_cityscapes, tree_digest

REPO = Path(__file__).resolve().parents[3]


def test_check_consecutive_names_the_missing_frame(tmp_path: Path) -> None:
    files = [tmp_path / f"frame{i:06d}.jpg" for i in (1, 2, 3, 5)]
    check_consecutive(files[:3], tmp_path)
    with pytest.raises(DataError, match=rf"{tmp_path / 'frame000004.jpg'}: missing frame"):
        check_consecutive(files, tmp_path)
    with pytest.raises(DataError, match="contains no frame images"):
        check_consecutive([], tmp_path)


def test_read_list_file_and_window_counts(tmp_path: Path) -> None:
    path = tmp_path / "list.txt"
    path.write_text("# comment\na/b.avi 1\r\n\n  c  \n")
    assert read_list_file(path) == ["a/b.avi", "c"]
    path.write_text("\n")
    with pytest.raises(DataError, match="split list is empty"):
        read_list_file(path)
    jobs = [PlannedSequence("test", str(n), tuple(f"{i}.png" for i in range(n)), "") for n in (8, 9, 20)]
    assert windows_per_sequence(jobs, "test", 9, 1) == 0 + 1 + 12
    assert windows_per_sequence(jobs, "test", 9, None) == 2
    assert windows_per_sequence(jobs, "train", 9, 1) == 0


def test_output_under_a_file_is_a_clear_error(tmp_path: Path) -> None:
    # mkdir's NotADirectoryError (or a read-only file system's error) used to escape as a traceback.
    raw = make_cityscapes(tmp_path / "raw", {"train": {"aachen": [(0, 0)]}})
    (tmp_path / "taken").write_text("a file")
    with pytest.raises(DataError, match="taken/out: cannot create the output folder"):
        prepare_cityscapes(raw, tmp_path / "taken" / "out", size=(16, 8))


def test_killed_run_resumes_to_the_same_tree(tmp_path: Path) -> None:
    """Kill a real preparing process mid-run, then run again: the result equals a clean run."""
    raw = make_cityscapes(
        tmp_path / "raw", {"train": {"aachen": [(0, 100 * k) for k in range(12)]}}, size=(96, 48)
    )
    clean = tmp_path / "clean"
    prepare_cityscapes(raw, clean, size=(64, 32))

    out = tmp_path / "out"
    code = "from framepred.data.prepare.cityscapes import prepare_cityscapes as p\n"
    code += f"p({str(raw)!r}, {str(out)!r}, (64, 32))"
    command = [sys.executable, "-c", code]
    child = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not (out / "train" / "000001").is_dir() and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.002)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert not (out / "manifest.json").exists(), "the run finished before it could be interrupted"
    done = [p for p in (out / "train").iterdir() if not p.name.startswith(".")]
    assert all(len(list(p.iterdir())) == 30 for p in done)  # whatever is visible is complete

    result = prepare_cityscapes(raw, out, size=(64, 32))
    assert result.skipped == len(done) and result.written == 12 - len(done)
    strip = {"manifest.json", ".framepred-prepare.json"}
    resumed = {k: v[1] for k, v in tree_digest(out).items() if k not in strip}
    assert resumed == {k: v[1] for k, v in tree_digest(clean).items() if k not in strip}
