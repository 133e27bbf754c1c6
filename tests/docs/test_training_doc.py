"""Every command of docs/training.md runs as written (made short by appended options), in page order."""

import json

import pytest

from tests.conftest import SHARED_DATA
from tests.docs.commands import ROOT, commands, run, with_variables, work_folder

PAGE = ROOT / "docs" / "training.md"
TINY = json.dumps({"features": [8] * 9, "routing": "all"})
# Appended to a command (a later option wins), keyed by the start of the command.
SHORTER = {
    "framepred demo": "--steps 2 --out runs/demo",
    "framepred prepare synthetic": "--train 3 --test 1 --frames 12 --size 96x96",
    "framepred train dmvfn --data data/synthetic --steps 100 --crop 64 --no-perceptual --nproc 2": (
        f"--steps 1 --batch-size 1 --model-config '{TINY}'"
    ),
    "framepred train dmvfn --data": f"--steps 2 --batch-size 2 --val-every 2 --model-config '{TINY}'",
    "framepred train dmvfn --run-dir": "--steps 3",
    "OMP_NUM_THREADS=1 framepred train": f"--steps 2 --val-samples 4 --model-config '{TINY}'",
}
NEEDS_GPUS = "--gpus"


def _shorter(command: str) -> str:
    return next((extra for start, extra in SHORTER.items() if command.startswith(start)), "")


@pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="needs ../shared/data")
def test_every_training_command_runs(tmp_path):
    work = work_folder(tmp_path, SHARED_DATA.parent)
    ran = 0
    for command in with_variables(commands(PAGE)):
        if NEEDS_GPUS in command:
            continue  # CUDA machines only; the launcher's command line is tested in tests/engine
        done = run(command, work, _shorter(command))
        assert done.returncode == 0, f"{command}\n{done.stderr[-2000:]}"
        ran += 1
    assert ran >= 10
