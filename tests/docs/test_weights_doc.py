"""Every ```bash block of docs/weights.md runs as written, in a shell, on two small frames.

The commands run as real subprocesses. Google Drive is replaced at gdown's boundary by
``tests/docs/fake_gdown`` (first on PYTHONPATH), which serves release-shaped files made here, so the
whole download path of framepred runs and nothing reaches the internet.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from framepred.io.images import write_image
from framepred.models.zoo import DRIVE_IDS
from tests.docs.release_files import fake_releases

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "weights.md"
FAKE_GDOWN = Path(__file__).resolve().parent / "fake_gdown"


def bash_blocks(text: str) -> list[str]:
    return re.findall(r"```bash\n(.*?)```", text, flags=re.S)


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_every_command_of_the_weights_page_runs(tmp_path) -> None:
    if not port_is_free(8000):
        pytest.skip("the page's mirror example serves on 127.0.0.1:8000, which is in use")
    rng = np.random.default_rng(0)
    for name in ("f0.png", "f1.png"):
        write_image(tmp_path / name, rng.integers(0, 256, (48, 64, 3), dtype=np.uint8))
    # Not the names' likely ids: framepred must find each file by asking Drive about every id.
    files = fake_releases(tmp_path / "drive", ("dmvfn_kitti.pkl", "dmvfn_vimeo.pkl", "dmvfn_city.pkl"))
    env = {
        **os.environ,
        "FRAMEPRED_HOME": str(tmp_path / "home"),
        "PYTHONPATH": os.pathsep.join([str(FAKE_GDOWN), str(ROOT)]),
        "FAKE_GDOWN_FILES": json.dumps(files),
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
    }
    for name in [n for n in env if n.startswith("FRAMEPRED_WEIGHTS_URL") or n == "FRAMEPRED_OFFLINE"]:
        del env[name]
    blocks = bash_blocks(DOC.read_text(encoding="utf-8"))
    assert len(blocks) >= 2
    for block in blocks:
        done = subprocess.run(
            ["bash", "-e", "-c", block], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, f"{block}\n--- stderr:\n{done.stderr}"
    assert (tmp_path / "next.png").is_file() and (tmp_path / "dmvfn_kitti.safetensors").is_file()
    assert (tmp_path / "other-home" / "weights" / "dmvfn_city.pkl").is_file()
    records = json.loads((tmp_path / "home" / "weights" / "records.json").read_text())
    assert records["dmvfn-city"]["source"] == f"google-drive:{DRIVE_IDS[2]}"
