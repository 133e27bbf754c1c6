"""docs/training.md, "A longer CPU run on real footage": its commands, as written, on small data.

The section's tree takes two sources (videos for train, frame folders for val); the second command
used to be refused because a tree took only one source. Here ``../shared/data`` holds small stand-ins
with the real names, and the training command is cut to a few steps (its own options come first).
"""

from __future__ import annotations

from pathlib import Path

from framepred.data.tree import FrameTree
from framepred.io.images import write_image
from framepred.io.video import write_video
from tests.docs.doc_blocks import code_blocks, run_script
from tests.helpers import random_frames

VIDEOS = {
    "udacity_highway_solidWhiteRight": "solidWhiteRight.mp4",
    "imageio_cockatoo": "cockatoo.mp4",
    "intel_asl_walk": "walk.mkv",
    "sam2_juggle": "05_default_juggle.mp4",
}
FRAME_FOLDERS = ("davis_judo_cutie", "sam2_bedroom", "hk_street_tram_realbasicvsr")
SHORTER = {"train\\ dmvfn*": "--steps 2 --val-samples 4"}


def test_the_longer_cpu_run_commands(tmp_path: Path) -> None:
    shared = tmp_path / "shared" / "data"
    for index, (folder, name) in enumerate(VIDEOS.items()):
        (shared / folder).mkdir(parents=True)
        # framepred writes mp4 only; the decoder reads the file whatever its name says (walk.mkv).
        write_video(shared / folder / "video.mp4", random_frames(12, 48, 80, seed=index), fps=10)
        (shared / folder / "video.mp4").rename(shared / folder / name)
    for index, folder in enumerate(FRAME_FOLDERS):
        (shared / folder).mkdir(parents=True)
        # 8 frames: two of context and the five steps the per-step command scores
        for t, frame in enumerate(random_frames(8, 48, 80, seed=10 + index)):
            write_image(shared / folder / f"{t:06d}.jpg", frame)
    work = tmp_path / "work"  # ../shared/data from here is the stand-in
    work.mkdir()

    blocks = code_blocks("training.md", "A longer CPU run on real footage (measured)")
    assert len(blocks) == 2  # prepare and train; score per step
    done = run_script("\n".join(blocks), work, SHORTER, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    table = done.stdout + done.stderr  # the per-step table of the evaluate command
    assert "copy-last" in table and "linear" in table and "t+5" in table

    tree = FrameTree(work / "real")
    assert tree.splits() == ["train", "val"]
    assert [len(s) for s in tree.sequences("train")] == [12] * 4
    assert sorted(s.name for s in tree.sequences("val")) == sorted(FRAME_FOLDERS)
    splits = tree.manifest["splits"]
    assert (splits["train"]["source"], splits["val"]["source"]) == ("videos", "frames")
    assert tree.manifest["frame_size"] == [160, 96]
    runs = list((work / "runs" / "train").iterdir())
    assert len(runs) == 1 and (runs[0] / "checkpoints" / "last" / "model.safetensors").is_file()
