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


def test_brackets_in_paths_are_printed_as_they_are(tmp_path: Path) -> None:
    # Rich markup used to eat "[video]" from the named file, or crash with a traceback on "[/b]".
    for name in ("my [video].mp4", "a[/b].mp4"):
        result = runner.invoke(app, ["prepare", "videos", str(tmp_path / name), "-o", str(tmp_path / "o")])
        assert result.exit_code == 2 and "Traceback" not in result.stderr
        assert name in result.stderr and len(result.stderr.strip().splitlines()) == 1
    out = tmp_path / "data [v2]"
    args = ["prepare", "synthetic", "-o", str(out), "--train", "1", "--test", "0", "--frames", "3"]
    result = runner.invoke(app, [*args, "--size", "16x16"])
    assert result.exit_code == 0 and "data [v2]" in result.stderr


def test_long_paths_stay_on_one_line_in_logs(tmp_path: Path) -> None:
    # Off a terminal rich wrapped info lines at 80 columns, cutting paths in two in every log.
    out = tmp_path / ("a_rather_long_folder_name_" * 4) / "frames"
    args = ["prepare", "synthetic", "-o", str(out), "--train", "1", "--test", "0", "--frames", "3"]
    result = runner.invoke(app, [*args, "--size", "16x16"])
    assert result.exit_code == 0 and str(out) in result.stderr


def test_a_full_disk_is_one_line_and_leaves_no_sequence(tmp_path: Path) -> None:
    # A file-size limit makes the kernel refuse writes (EFBIG) as a full disk does (ENOSPC); both
    # used to end in an OSError traceback from the frame writer.
    out = tmp_path / "out"
    code = (
        "import resource, signal, sys\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (4000, 4000))\n"
        "from framepred.cli.app import main\n"
        f"sys.argv = ['framepred', 'prepare', 'synthetic', '-o', {str(out)!r}, '--train', '1']\n"
        "main()\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot write" in lines[0] and "Traceback" not in result.stderr
    assert not (out / "train" / "seq0000").exists()


def test_closed_stdout_pipe_is_quiet(tmp_path: Path) -> None:
    script = (
        "import sys; from framepred.cli.app import main\n"
        f"sys.argv = ['framepred', 'prepare', 'synthetic', '-o', {str(tmp_path)!r}, '--train', '1',"
        " '--test', '0', '--frames', '3', '--size', '16x16', '--json']\nmain()"
    )
    process = subprocess.run(
        f'{sys.executable} -c "{script}" | head -c 0', shell=True, capture_output=True, text=True
    )
    assert "Traceback" not in process.stderr
