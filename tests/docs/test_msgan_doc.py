"""docs/msgan.md: every command of the page runs as written, on small stand-in data.

``../shared/data`` is a stand-in with the real names (small random videos and frame folders), the
UCF101 extraction a miniature one, and training, clipping and evaluation are cut short by appended
options (a later option overrides the page's).
"""

from __future__ import annotations

from pathlib import Path

from framepred.io.images import write_image
from framepred.io.video import write_video
from tests.data.prepare.raw_trees import write_frame
from tests.docs.doc_blocks import code_blocks, run_script
from tests.helpers import random_frames

VIDEOS = {
    "udacity_highway_solidWhiteRight": "solidWhiteRight.mp4",
    "imageio_cockatoo": "cockatoo.mp4",
    "intel_asl_walk": "walk.mkv",
    "sam2_juggle": "05_default_juggle.mp4",
}
FRAME_FOLDERS = ("davis_judo_cutie", "sam2_bedroom", "hk_street_tram_realbasicvsr")
SHORTER = {
    "clip*": "--count 48 --workers 1",
    "train\\ msgan*": "--steps 4 --batch-size 2 --val-every 2 --val-samples 2 --width 0.0625 --amp none",
    "evaluate*": "--limit 2",
    "rollout*": "--steps 2",
}


def stand_in_shared_data(shared: Path) -> None:
    for index, (folder, name) in enumerate(VIDEOS.items()):
        (shared / folder).mkdir(parents=True)
        # framepred writes mp4 only; the decoder reads the file whatever its name says (walk.mkv).
        write_video(shared / folder / "video.mp4", random_frames(12, 48, 80, seed=index), fps=10)
        (shared / folder / "video.mp4").rename(shared / folder / name)
    for index, folder in enumerate(FRAME_FOLDERS):
        (shared / folder).mkdir(parents=True)
        for t, frame in enumerate(random_frames(9, 48, 80, seed=10 + index)):
            write_image(shared / folder / f"{t:06d}.jpg", frame)


def test_real_footage_predict_and_evaluate_commands(tmp_path: Path) -> None:
    stand_in_shared_data(tmp_path / "shared" / "data")
    work = tmp_path / "work"
    work.mkdir()
    blocks = code_blocks("msgan.md", "Train on clips of real footage")
    blocks += code_blocks("msgan.md", "Predict, roll out, evaluate")
    done = run_script("\n".join(blocks), work, SHORTER)
    assert done.returncode == 0, done.stderr[-3000:]
    for run in ("msgan", "msgan-l1-gdl"):
        assert (work / "runs" / run / "checkpoints" / "last" / "model.safetensors").is_file()
    assert (work / "next.png").is_file() and len(list((work / "judo_future").glob("*.png"))) == 2


def test_ucf101_setting_commands(tmp_path: Path) -> None:
    for video in range(4):  # groups 1-7 are UCF101's test split, 8-25 train
        group = (2, 9, 10, 11)[video]
        for t in range(1, 9):
            write_frame(
                tmp_path / "raw" / "ucf101" / "jpegs_256" / f"v_Run_g{group:02d}_c01" / f"frame{t:06d}.jpg",
                64,
                48,
            )
    (block,) = code_blocks("msgan.md", "The paper's UCF101 setting")
    done = run_script(block, tmp_path, SHORTER)
    assert done.returncode == 0, done.stderr[-3000:]
    assert (tmp_path / "runs" / "msgan-ucf101" / "checkpoints" / "last" / "model.safetensors").is_file()
