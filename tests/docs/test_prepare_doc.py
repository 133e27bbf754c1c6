"""docs/prepare.md: the two-source tree at the top of the page, as written, on ../shared/data."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from framepred.data.tree import FrameTree
from tests.docs.doc_blocks import DOCS

BIN = Path(sys.executable).parent


def test_two_sources_in_one_tree(tmp_path: Path, shared_data: Path) -> None:
    text = (DOCS / "prepare.md").read_text(encoding="utf-8")
    block = text.split("```bash\n", 1)[1].split("```", 1)[0]  # the page's first example
    assert "--split val" in block
    (tmp_path / "shared").symlink_to(shared_data.parent)  # ../shared/data from tmp_path/work
    (tmp_path / "work").mkdir()
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", block], cwd=tmp_path / "work", env=env,
                          capture_output=True, text=True, timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    tree = FrameTree(tmp_path / "work" / "data" / "highway")
    assert tree.manifest["splits"]["train"]["frames"] == 221
    assert tree.manifest["splits"]["val"]["source"] == "frames" and tree.manifest["frame_size"] == [320, 180]
