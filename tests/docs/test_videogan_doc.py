"""Every command of docs/videogan.md, and of the basketball recipe in docs/scrape.md, runs as written
(made short by appended options), in page order."""

import re

import cv2
import pytest

from framepred.data.tree import FrameTree
from framepred.io.images import read_image, write_image
from tests.conftest import SHARED_DATA
from tests.docs.doc_blocks import code_blocks, page_blocks, run_script, work_folder
from tests.io.scrape_server import VIDEOS, serve

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
# The recipe's YouTube search, replaced by links to a local site in the test.
SEARCH = r'--search "[^"]+" --max-videos \d+'


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


def test_basketball_recipe_scrapes_trains_and_predicts_from_a_local_site(tmp_path):
    """scrape -> train -> predict as written; only the search (YouTube, needs the internet) becomes
    two video links on a web server on 127.0.0.1, every other scrape option is the page's."""
    pytest.importorskip("yt_dlp")
    if not all((SHARED_DATA / rel).is_file() for rel in VIDEOS.values()):
        pytest.skip("needs ../shared/data")
    lines = _lines(code_blocks("scrape.md", "The VideoGAN basketball recipe, end to end"))
    commands = [line.split()[1] for line in lines if line.startswith("framepred")]
    assert commands == ["scrape", "train", "predict"]
    work = work_folder(tmp_path, SHARED_DATA.parent)
    # A real photo at a quarter of its size (213x120, not the model's 64x64 and no multiple of
    # anything): the 32-frame future of the full 854x480 frame took half a minute on 2 cores.
    photo = read_image(SHARED_DATA / "davis_judo_cutie" / "000000.jpg")
    write_image(work / "court.jpg", cv2.resize(photo, (213, 120), interpolation=cv2.INTER_AREA))
    with serve(SHARED_DATA) as site:
        links = " ".join(site.url(f"/v/{name}") for name in VIDEOS)
        script = "\n".join(re.sub(SEARCH, links, line) for line in lines)
        assert script.count(links) == 1
        done = run_script(script, work, SHORTER)
    assert done.returncode == 0, done.stderr[-3000:]
    tree = FrameTree(work / "data" / "basketball")
    sequences = tree.sequences("train")
    # walk: 2.97 s at 15 fps is one 32-frame chunk; cockatoo: 14 s, six; every frame 64x64
    assert len(sequences) == 7 and {len(sequence) for sequence in sequences} == {32}
    assert sequences[0].read(0).shape == (64, 64, 3)
    assert (work / "runs" / "basketball" / "checkpoints" / "last" / "model.safetensors").is_file()
    assert re.match(rb"GIF8[79]a", (work / "future.gif").read_bytes()[:6])
    assert re.match(rb"GIF8[79]a", (work / "future_compare.gif").read_bytes()[:6])
