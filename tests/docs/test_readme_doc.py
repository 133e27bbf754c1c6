"""README.md: every bash block after the first (the install commands, which CI runs itself) runs as
written, in a shell, on small data made here (made short by appended options).

The inputs the tour names are made in the work folder first: two short clips/*.mp4, ./frame_folders,
a miniature raw/cityscapes download, f0.png f1.png, frames/, and ../shared/data (the real footage).
Google Drive is replaced at gdown's boundary by ``tests/docs/fake_gdown`` (first on PYTHONPATH), which
serves release-shaped DMVFN files made here, with FRAMEPRED_HOME in the test's folder; the YouTube
search of ``scrape`` becomes two video links on a web server on 127.0.0.1, every other scrape option
is the README's.

``framepred train dmvfn --data data/cityscapes --epochs 300 --gpus 8`` is a line for a machine with
eight GPUs; it stays in the README as written, and on a machine with fewer the test asserts that it
fails as a user would see it: the one-line error (pointing at ``--nproc``) and exit code 2.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from framepred.data.tree import FrameTree
from framepred.io.images import write_image
from tests.conftest import SHARED_DATA
from tests.data.prepare.raw_trees import make_cityscapes, write_frame
from tests.docs.doc_blocks import ROOT, run_script, work_folder
from tests.docs.release_files import fake_releases
from tests.io.scrape_server import VIDEOS, serve

README = ROOT / "README.md"
FAKE_GDOWN = Path(__file__).resolve().parent / "fake_gdown"
RELEASES = ("dmvfn_city.pkl", "dmvfn_kitti.pkl", "dmvfn_vimeo.pkl")  # each at its likely Drive id
TINY = "--model-config " + repr(json.dumps({"features": [8] * 9, "routing": "all"}))
# Options appended to framepred commands whose arguments match the pattern (first match wins).
SHORTER = {
    "prepare\\ synthetic*": "--train 3 --test 1 --frames 12 --size 96x96",
    "prepare\\ videos*": "--size 64x48",
    "prepare\\ frames*": "--size 64x48",
    "prepare\\ cityscapes*": "--workers 1",
    "train\\ dmvfn\\ --data\\ data/synthetic*": f"--steps 2 --batch-size 2 --val-every 2 {TINY}",
    "train\\ dmvfn\\ --data\\ data/cityscapes*": f"--epochs 1 --batch-size 2 {TINY}",
    "train\\ dmvfn\\ --run-dir*": "--steps 3",
    "evaluate\\ --weights*": "--limit 2",
    "clip*": "-n 20 --workers 1",
}
# The README's YouTube search, replaced by links to a local site in the test.
SEARCH = r'--search "[^"]+" --max-videos \d+'


def readme_blocks() -> list[str]:
    return re.findall(r"```bash\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


def write_clip(path: Path, frames: int, size: tuple[int, int] = (96, 64), fps: float = 20.0) -> None:
    """A short mp4 of a square moving over noise."""
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
    rng = np.random.default_rng(len(path.name))
    background = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    for t in range(frames):
        frame = background.copy()
        frame[10:30, 4 + 3 * t : 24 + 3 * t] = 255
        writer.write(frame)
    writer.release()
    assert path.stat().st_size > 0


def make_inputs(work: Path) -> None:
    """Everything the tour reads, small."""
    write_clip(work / "clips" / "street.mp4", 16)
    write_clip(work / "clips" / "park.mp4", 12)
    for name, count in (("walk", 12), ("tram", 11)):
        for index in range(count):
            write_frame(work / "frame_folders" / name / f"{index}.png", 64, 48)  # 2 before 10
    make_cityscapes(work / "raw" / "cityscapes", {"train": {"aachen": [(0, 0)]}, "val": {"lindau": [(1, 7)]}})
    rng = np.random.default_rng(0)
    for name in ("f0.png", "f1.png"):
        write_image(work / name, rng.integers(0, 256, (48, 64, 3), dtype=np.uint8))
    for index in range(5):
        write_frame(work / "frames" / f"{index:06d}.png", 64, 48)


# 161-244 s measured on the shared 2-core machine (release-sized DMVFN on DAVIS frames), so slow.
@pytest.mark.slow
@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_the_readme_tour_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("yt_dlp")
    if not all((SHARED_DATA / rel).is_file() for rel in VIDEOS.values()):
        pytest.skip("needs ../shared/data")
    blocks = readme_blocks()
    assert blocks[0].count("pip install") == 4  # the install commands, run by CI itself
    lines = [line for block in blocks[1:] for line in block.splitlines()]
    assert sum(line.startswith("framepred ") for line in lines) >= 18
    work = work_folder(tmp_path, SHARED_DATA.parent)
    make_inputs(work)
    monkeypatch.setenv("FRAMEPRED_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PYTHONPATH", str(FAKE_GDOWN))
    monkeypatch.setenv("FAKE_GDOWN_FILES", json.dumps(fake_releases(tmp_path / "drive", RELEASES)))
    (gpus,) = [index for index, line in enumerate(lines) if "--gpus 8" in line]
    before = run_script("\n".join(lines[:gpus]), work, SHORTER)
    assert before.returncode == 0, before.stderr[-3000:]
    mine = FrameTree(work / "data" / "mine").manifest["splits"]
    assert mine["train"]["source"] == "videos" and mine["val"]["source"] == "frames"
    # Eight GPUs: a CUDA machine's line. On this one it must fail as a user sees it: one line, code 2.
    if torch.cuda.device_count() < 8:
        refused = run_script(lines[gpus], work, SHORTER)
        assert refused.returncode == 2, refused.stderr[-3000:]
        have = torch.cuda.device_count()
        expected = f"error: --gpus 8 asked for, this machine has {have}; use --nproc N on the CPU"
        assert refused.stderr.splitlines() == [expected]
    else:
        assert run_script(lines[gpus], work, SHORTER).returncode == 0
    with serve(SHARED_DATA) as site:
        links = " ".join(site.url(f"/v/{name}") for name in VIDEOS)
        script = re.sub(SEARCH, links, "\n".join(lines[gpus + 1 :]))
        assert script.count(links) == 1
        done = run_script(script, work, SHORTER)
    assert done.returncode == 0, done.stderr[-3000:]
    for name in ("next.png", "judo.mp4", "dmvfn_city.safetensors", "dmvfn_city.onnx"):
        assert (work / name).is_file(), name
