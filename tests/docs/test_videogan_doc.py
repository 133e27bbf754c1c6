"""Every command of docs/videogan.md, and of the basketball recipe in docs/scrape.md, runs as written
(made short by appended options), in page order."""

import re
import shutil

import pytest

from tests.conftest import SHARED_DATA
from tests.docs.doc_blocks import code_blocks, page_blocks, run_script, work_folder

SMALL = "--width 0.0625 --batch-size 2"
# Options appended to framepred commands whose arguments match the pattern (first match wins).
SHORTER = {
    "demo*": "--steps 2",
    "train\\ videogan\\ --data\\ runs/demo/data*": "--steps 2 --val-every 2",
    "train\\ videogan\\ --cond\\ none*": "--steps 2",
    "train\\ videogan\\ --data\\ data/basketball*": f"--epochs 1 {SMALL}",
    "train\\ videogan\\ --data\\ data/real*": f"--steps 2 {SMALL} --val-every 2",
    "evaluate\\ --data\\ data/real*": "--limit 2",
}
MEASURED = "Measured"


def _lines(blocks: list[str], skip: tuple[str, ...] = ()) -> list[str]:
    # --gpus: CUDA machines only (the launcher's command line is tested in tests/engine).
    skip = ("--gpus", *skip)
    return [line for block in blocks for line in block.splitlines() if not any(s in line for s in skip)]


@pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="needs ../shared/data")
def test_every_videogan_command_runs(tmp_path):
    work = work_folder(tmp_path, SHARED_DATA.parent)
    blocks = [block for heading, block in page_blocks("videogan.md") if heading != MEASURED]
    lines = _lines(blocks)
    assert len(lines) >= 10
    done = run_script("\n".join(lines), work, SHORTER)
    assert done.returncode == 0, done.stderr[-3000:]
    assert (work / "future.gif").is_file() and (work / "future" / "000031.png").is_file()
    assert (work / "future_compare.mp4").is_file() and (work / "long.mp4").is_file()
    assert len(list((work / "samples").glob("sample_*_compare.gif"))) == 8


@pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="needs ../shared/data")
def test_measured_commands_run_on_small_settings(tmp_path):
    work = work_folder(tmp_path, SHARED_DATA.parent)
    lines = _lines(code_blocks("videogan.md", MEASURED), skip=("benchmarks/",))
    assert any("framepred train" in line for line in lines)
    done = run_script("\n".join(lines), work, SHORTER)
    assert done.returncode == 0, done.stderr[-3000:]


def test_basketball_recipe_runs_offline_on_local_video(tmp_path):
    if not SHARED_DATA.is_dir():
        pytest.skip("needs ../shared/data")
    lines = _lines(code_blocks("scrape.md", "The VideoGAN basketball recipe, end to end"))
    assert sum("framepred scrape" in line for line in lines) == 1
    work = work_folder(tmp_path, SHARED_DATA.parent)
    # The scrape needs the internet: the same kind of tree (64x64 frames) from a local video instead.
    video = "../shared/data/sam2_juggle/05_default_juggle.mp4"
    stand_in = f"framepred prepare videos {video} -o data/basketball --size 64x64"
    shutil.copy(SHARED_DATA / "davis_judo_cutie" / "000000.jpg", work / "court.jpg")
    script = "\n".join(stand_in if "framepred scrape" in line else line for line in lines)
    done = run_script(script, work, SHORTER)
    assert done.returncode == 0, done.stderr[-3000:]
    assert re.match(rb"GIF8[79]a", (work / "future.gif").read_bytes()[:6])
