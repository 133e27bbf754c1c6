"""Every command of docs/videogan.md, and of the basketball recipe in docs/scrape.md, runs as written
(made short by appended options), in page order."""

import re
import shutil

import pytest

from tests.conftest import SHARED_DATA
from tests.docs.commands import ROOT, commands, run, with_variables, work_folder

PAGE = ROOT / "docs" / "videogan.md"
SCRAPE_PAGE = ROOT / "docs" / "scrape.md"
SECTION = "## The VideoGAN basketball recipe, end to end"
SMALL = "--width 0.0625 --batch-size 2"
# Appended to a command (a later option wins), keyed by the start of the command.
SHORTER = {
    "framepred demo --model videogan": "--steps 2",
    "framepred train videogan --data runs/demo/data": "--steps 2 --val-every 2",
    "framepred train videogan --cond none": "--steps 2",
    "framepred train videogan --data data/basketball": f"--epochs 1 {SMALL}",
}
NEEDS_GPUS = "--gpus"
NEEDS_INTERNET = "framepred scrape"


def _shorter(command: str) -> str:
    return next((extra for start, extra in SHORTER.items() if start in command), "")


def _run_all(found: list[str], work) -> int:
    ran = 0
    for command in with_variables(found):
        if NEEDS_GPUS in command:
            continue  # CUDA machines only
        done = run(command, work, _shorter(command))
        assert done.returncode == 0, f"{command}\n{done.stderr[-2000:]}"
        ran += 1
    return ran


def test_every_videogan_command_runs(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    assert _run_all(commands(PAGE), work) >= 9
    assert (work / "future.gif").is_file() and (work / "future_compare.mp4").is_file()
    assert len(list((work / "samples").glob("sample_*_compare.gif"))) == 8


def _section(page, heading: str) -> str:
    text = page.read_text(encoding="utf-8")
    start = text.index(heading)
    end = text.find("\n## ", start + len(heading))
    return text[start : end if end > 0 else len(text)]


@pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="needs ../shared/data")
def test_basketball_recipe_runs_offline_on_local_video(tmp_path):
    section = tmp_path / "section.md"
    section.write_text(_section(SCRAPE_PAGE, SECTION), encoding="utf-8")
    found = commands(section)
    assert sum(NEEDS_INTERNET in c for c in found) == 1
    work = work_folder(tmp_path, SHARED_DATA.parent)
    # The scrape needs the internet: the same kind of tree (64x64 frames) from a local video instead.
    video = "../shared/data/sam2_juggle/05_default_juggle.mp4"
    done = run(f"framepred prepare videos {video} -o data/basketball --size 64x64", work)
    assert done.returncode == 0, done.stderr
    shutil.copy(SHARED_DATA / "davis_judo_cutie" / "000000.jpg", work / "court.jpg")
    rest = [c for c in found if NEEDS_INTERNET not in c]
    assert _run_all(rest, work) == 2
    assert re.search(r"GIF8[79]a", (work / "future.gif").read_bytes()[:6].decode("latin-1"))
