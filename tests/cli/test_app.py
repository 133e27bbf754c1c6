import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from framepred import __version__
from framepred.cli.app import app

runner = CliRunner()

COMMANDS = ["prepare", "clip", "train", "predict", "rollout", "evaluate", "scrape", "demo", "convert"]


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and __version__ in result.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command: str) -> None:
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


def test_help_does_not_import_torch() -> None:
    code = "import sys; from framepred.cli.app import main; sys.argv=['framepred','--help']\n"
    code += "try:\n    main()\nexcept SystemExit:\n    pass\nprint('torch' in sys.modules)"
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert output.strip().endswith("False")


def test_python_dash_m_works() -> None:
    result = subprocess.run([sys.executable, "-m", "framepred", "--version"], capture_output=True, text=True)
    assert result.returncode == 0 and __version__ in result.stdout


def test_errors_are_one_line_exit_2_and_debug_shows_traceback(tmp_path: Path) -> None:
    missing = tmp_path / "nothing.mp4"
    result = runner.invoke(app, ["prepare", "videos", str(missing), "-o", str(tmp_path / "out")])
    assert result.exit_code == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "nothing.mp4" in lines[0] and "Traceback" not in result.stderr
    debug = runner.invoke(app, ["--debug", "prepare", "videos", str(missing), "-o", str(tmp_path / "out")])
    assert debug.exit_code == 2 and "Traceback" in debug.stderr


def test_bad_option_is_exit_2() -> None:
    result = runner.invoke(app, ["prepare", "synthetic", "-o", "x", "--size", "big"])
    assert result.exit_code == 2 and "WIDTHxHEIGHT" in result.stderr


def test_prepare_synthetic_json_and_rerun(tmp_path: Path) -> None:
    args = [
        "prepare",
        "synthetic",
        "-o",
        str(tmp_path),
        "--train",
        "2",
        "--test",
        "1",
        "--frames",
        "4",
        "--size",
        "32x32",
    ]
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    assert '"written": 3' in result.stdout
    again = runner.invoke(app, args)
    assert again.exit_code == 0 and "nothing to do" in again.stderr


def test_prepare_videos_cli(tmp_path: Path, udacity_video: Path) -> None:
    result = runner.invoke(
        app, ["prepare", "videos", str(udacity_video), "-o", str(tmp_path), "--size", "64x36"]
    )
    assert result.exit_code == 0, result.output
    assert len(list((tmp_path / "train" / "solidWhiteRight").glob("*.png"))) == 221


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_unwritable_output_is_exit_2(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(stat.S_IRUSR | stat.S_IXUSR)
    result = runner.invoke(
        app, ["prepare", "synthetic", "-o", str(locked / "out"), "--train", "1", "--test", "0"]
    )
    assert result.exit_code == 2 and "locked" in result.stderr


def test_unwritable_output_file_in_place_of_folder_is_exit_2(tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where the output folder should go")
    result = runner.invoke(
        app, ["prepare", "synthetic", "-o", str(blocker / "out"), "--train", "1", "--test", "0"]
    )
    assert result.exit_code == 2, result.output
    assert "blocker" in result.stderr
