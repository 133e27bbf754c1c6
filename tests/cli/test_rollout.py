"""`framepred rollout`: context from images, folders and videos; folder, mp4 and gif output; --compare."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from framepred.cli.app import app
from framepred.inference import Predictor
from framepred.inference.rollout import rollout_job
from framepred.io.images import list_images, read_image, write_image
from framepred.io.video import VideoReader, write_video
from tests.helpers import one_line_error

runner = CliRunner()


def ramp_frames(folder: Path, count: int, height: int = 16, width: int = 24) -> list[Path]:
    """Flat frames 10, 20, 30, ...: the linear model continues the ramp exactly."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index in range(count):
        path = folder / f"{index:06d}.png"
        write_image(path, np.full((height, width, 3), 10 * (index + 1), np.uint8))
        paths.append(path)
    return paths


def test_rollout_from_images_into_a_folder(tmp_path) -> None:
    first, second = ramp_frames(tmp_path / "in", 2)
    out = tmp_path / "future"
    result = runner.invoke(
        app, ["rollout", str(first), str(second), "--steps", "3", "-o", str(out), "--model", "linear"]
    )
    assert result.exit_code == 0, result.output
    files = list_images(out)
    assert [f.name for f in files] == ["000001.png", "000002.png", "000003.png"]
    assert [int(read_image(f)[0, 0, 0]) for f in files] == [30, 40, 50]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # temp folder renamed away


def test_rollout_from_a_folder_with_start_and_compare(tmp_path) -> None:
    ramp_frames(tmp_path / "seq", 6)
    out, compare = tmp_path / "roll.mp4", tmp_path / "side.mp4"
    args = [
        "rollout",
        str(tmp_path / "seq"),
        "--start",
        "2",
        "--steps",
        "6",
        "-o",
        str(out),
        "--model",
        "linear",
    ]
    result = runner.invoke(
        app, [*args, "--compare", str(tmp_path / "seq"), "--compare-output", str(compare), "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["start"] == 2
    with VideoReader(out) as reader:
        assert len(list(reader)) == 6
    with VideoReader(compare) as reader:
        panels = list(reader)
    assert len(panels) == 6 and panels[0].shape == (16, 3 * 24, 3)
    # context | prediction | truth: frame 2 (value 30) is both predicted and true; after the
    # folder ends (4 truths for 6 steps) the truth panel is black.
    assert abs(int(panels[0][8, 36, 0]) - 30) <= 3 and abs(int(panels[0][8, 60, 0]) - 30) <= 3
    assert panels[-1][8, 60].max() <= 3


def test_rollout_from_a_video_into_a_gif(tmp_path) -> None:
    video = tmp_path / "clip.mp4"
    write_video(video, [np.full((16, 24, 3), v, np.uint8) for v in (40, 50, 60, 70)], fps=5)
    out = tmp_path / "future.gif"
    result = runner.invoke(
        app, ["rollout", str(video), "--steps", "2", "-o", str(out), "--model", "copy-last"]
    )
    assert result.exit_code == 0, result.output
    with VideoReader(out) as reader:
        frames = list(reader)
    assert len(frames) == 2 and abs(int(frames[0][8, 12, 0]) - 70) <= 4  # copy of the last video frame


def test_nothing_half_written_when_a_step_fails(tmp_path) -> None:
    ramp_frames(tmp_path / "seq", 3)
    ramp_frames(tmp_path / "other_size", 3, height=20)
    out = tmp_path / "future"
    args = ["rollout", str(tmp_path / "seq"), "--steps", "3", "-o", str(out), "--model", "linear"]
    result = runner.invoke(app, [*args, "--compare", str(tmp_path / "other_size")])
    one_line_error(result, "other_size", "same size")
    assert not out.exists() and not list(tmp_path.glob(".*"))


def test_errors(tmp_path) -> None:
    ramp_frames(tmp_path / "seq", 3)
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine")
    base = ["rollout", str(tmp_path / "seq"), "--steps", "2", "--model", "linear", "-o"]
    one_line_error(runner.invoke(app, [*base, str(tmp_path / "full")]), "not an empty folder")
    one_line_error(runner.invoke(app, [*base, str(tmp_path / "o"), "--start", "7"]), "--start")
    one_line_error(runner.invoke(app, [*base, str(tmp_path / "o.avi")]), ".mp4")
    one_line_error(runner.invoke(app, [*base, str(tmp_path / "o"), "--steps", "0"]), "--steps")
    missing = [
        "rollout",
        str(tmp_path / "nothing"),
        "--steps",
        "2",
        "--model",
        "linear",
        "-o",
        str(tmp_path / "o"),
    ]
    one_line_error(runner.invoke(app, missing), "nothing")


def test_memory_stays_flat_in_the_number_of_steps(tmp_path) -> None:
    ramp_frames(tmp_path / "seq", 2, height=64, width=96)
    predictor = Predictor.from_name("copy-last", device="cpu")

    def peak(steps: int) -> int:
        tracemalloc.start()
        rollout_job(predictor, [tmp_path / "seq"], steps, tmp_path / f"out{steps}")
        _, peak_bytes = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return peak_bytes

    small, large = peak(5), peak(40)
    frame_bytes = 64 * 96 * 3
    assert len(list_images(tmp_path / "out40")) == 40
    assert large - small < 10 * frame_bytes  # keeping the 35 extra frames would need 35 frames' worth


@pytest.mark.usefixtures("shared_data")
def test_rollout_on_real_frames(shared_data, tmp_path) -> None:
    folder = shared_data / "davis_judo_cutie"
    out = tmp_path / "judo.mp4"
    args = ["rollout", str(folder), "--start", "4", "--steps", "3", "-o", str(out), "--model", "linear"]
    result = runner.invoke(app, [*args, "--compare", str(folder)])
    assert result.exit_code == 0, result.output
    with VideoReader(tmp_path / "judo_compare.mp4") as reader:
        assert reader.size == (3 * 854, 480)
