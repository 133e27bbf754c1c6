"""Every command of docs/fusion.md runs as written (made short by appended options), in page order."""

import pytest

from tests.conftest import SHARED_DATA
from tests.docs.commands import ROOT, commands, run, with_variables, work_folder

PAGE = ROOT / "docs" / "fusion.md"
# Appended to a command (a later option wins), keyed by the start of the command.
SHORTER = {
    "framepred demo": "--steps 2 --out runs/demo",
    "framepred train fusion --data fusion --run-dir runs/fusion --stage unet": "--steps 2 --val-samples 2",
    "framepred train fusion --data": "--steps 2 --val-samples 2",
    "framepred evaluate": "--limit 1",
    "flock -x /work/cpu.lock": "--minutes 0.02 --limit 1 --work runs/bench",
}


def _shorter(command: str) -> str:
    return next((extra for start, extra in SHORTER.items() if command.startswith(start)), "")


@pytest.mark.slow  # about four minutes on two shared cores: two demos' worth of data, three stages
@pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="needs ../shared/data")
def test_every_fusion_command_runs(tmp_path):
    work = work_folder(tmp_path, SHARED_DATA.parent)
    ran = 0
    for command in with_variables(commands(PAGE)):
        if command.startswith("flock -x /work/cpu.lock"):
            command = command.removeprefix("flock -x /work/cpu.lock ")  # the machine lock is ours alone
            command = command.replace(".venv/bin/python benchmarks/", f"python {ROOT}/benchmarks/")
            extra = SHORTER["flock -x /work/cpu.lock"]
        else:
            extra = _shorter(command)
        done = run(command, work, extra)
        assert done.returncode == 0, f"{command}\n{done.stderr[-2000:]}"
        ran += 1
    assert ran >= 10
    assert (work / "future.mp4").is_file() and (work / "future_compare.mp4").is_file()
