"""Every command of docs/fusion.md runs as written (made short by appended options), in page order."""

import sys

import pytest

from tests.conftest import SHARED_DATA
from tests.docs.doc_blocks import ROOT, page_blocks, run_script, work_folder

# Options appended to framepred commands whose arguments match the pattern (first match wins).
SHORTER = {
    "demo*": "--steps 2",
    "train\\ fusion\\ --data*": "--steps 2 --val-samples 2",
    "evaluate*": "--limit 1",
}
BENCHMARK = "python benchmarks/"
BENCH_SHORTER = " --minutes 0.02 --limit 1"


def _runnable(line: str) -> str:
    """A benchmark line of the page, run by this interpreter from this checkout, made short."""
    if not line.startswith(BENCHMARK):
        return line
    return line.replace(BENCHMARK, f"{sys.executable} {ROOT}/benchmarks/", 1) + BENCH_SHORTER


@pytest.mark.slow  # several minutes on two shared cores: real footage, three stages, a demo, the benchmark
@pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="needs ../shared/data")
def test_every_fusion_command_runs(tmp_path):
    work = work_folder(tmp_path, SHARED_DATA.parent)
    lines = [_runnable(line) for _, block in page_blocks("fusion.md") for line in block.splitlines()]
    assert sum("framepred " in line for line in lines) >= 10
    done = run_script("\n".join(lines), work, SHORTER, timeout=2400)
    assert done.returncode == 0, done.stderr[-3000:]
    assert (work / "future.mp4").is_file() and (work / "future_compare.mp4").is_file()
    assert (work / "runs" / "fusion" / "checkpoints" / "last" / "model.safetensors").is_file()
