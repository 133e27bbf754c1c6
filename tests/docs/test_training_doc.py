"""Every command of docs/training.md runs as written (made short by appended options), in page order.

The section on real footage has its own test on stand-in data (test_training_real_footage_doc.py).
"""

import json
import sys

import pytest

from tests.conftest import SHARED_DATA
from tests.docs.doc_blocks import ROOT, page_blocks, run_script, work_folder

TINY = "--model-config " + repr(json.dumps({"features": [8] * 9, "routing": "all"}))
# Options appended to framepred commands whose arguments match the pattern (first match wins).
SHORTER = {
    "demo*": "--steps 2",
    "prepare\\ synthetic*": "--train 3 --test 1 --frames 12 --size 96x96",
    "*--nproc*": f"--steps 1 --batch-size 1 {TINY}",
    "train\\ dmvfn\\ --data*": f"--steps 2 --batch-size 2 --val-every 2 {TINY}",
    "train\\ dmvfn\\ --run-dir*": "--steps 3",
}
REAL_FOOTAGE = "A longer CPU run on real footage (measured)"
PROBE = "python benchmarks/probe_demo_motion.py"


@pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="needs ../shared/data")
def test_every_training_command_runs(tmp_path):
    work = work_folder(tmp_path, SHARED_DATA.parent)
    blocks = [block for heading, block in page_blocks("training.md") if heading != REAL_FOOTAGE]
    # CUDA machines only; the launcher's command line for them is tested in tests/engine.
    lines = [
        line
        for block in blocks
        for line in block.splitlines()
        if "--gpus" not in line and not line.startswith(PROBE)
    ]
    assert len(lines) >= 8
    done = run_script("\n".join(lines), work, SHORTER)
    assert done.returncode == 0, done.stderr[-3000:]
    assert (work / "runs" / "train" / "dmvfn" / "checkpoints" / "last" / "model.safetensors").is_file()


def test_demo_probe_runs_as_documented():
    """The probe of "what limits it" is on the page as written, and runs (4 training steps and 10
    flow iterations here, instead of 1000 and 300: the same code, a fraction of the time)."""
    lines = [line for _, block in page_blocks("training.md") for line in block.splitlines()]
    assert PROBE in lines
    command = f"{sys.executable} {ROOT}/benchmarks/probe_demo_motion.py --steps 4 --flow-iterations 10"
    done = run_script(command, ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    for heading in ("1. next-frame PSNR", "2. a flow field optimised", "3. one MVFB", "fitting 10 test"):
        assert heading in done.stdout
