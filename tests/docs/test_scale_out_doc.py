"""docs/scale-out.md: the one-machine loop, the SLURM array script and the Kubernetes Jobs, as written.

No scheduler runs here, so the test plays its part: it runs the script once per array index with the
variables SLURM sets (all at once, as an array would), and the Jobs' commands once per completion
index, with the volume's ``/data`` in a temporary folder.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import yaml
from typer.testing import CliRunner

from framepred.cli.app import app
from framepred.data.tree import FrameTree
from tests.data.prepare.raw_trees import write_frame
from tests.docs.doc_blocks import code_blocks

BIN = Path(sys.executable).parent  # the framepred console script of this environment
ENV = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}


def tree_bytes(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def make_ucf101(raw: Path) -> None:
    """A miniature ucf101_jpegs_256 extraction: 11 videos of 3-5 frames (groups 1-7 are test)."""
    videos = [("Run", group) for group in (1, 3, 8, 9, 12)] + [("Jump", group) for group in range(2, 20, 3)]
    for index, (action, group) in enumerate(videos):
        for t in range(1, 4 + index % 2):
            write_frame(raw / "jpegs_256" / f"v_{action}_g{group:02d}_c01" / f"frame{t:06d}.jpg", 24, 16)


def test_one_machine_loop(tmp_path: Path) -> None:
    (block,) = code_blocks("scale-out.md", "On one machine")
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", block], cwd=tmp_path, env=ENV,
                          capture_output=True, text=True, timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    tree = FrameTree(tmp_path / "data" / "synthetic")
    assert tree.manifest["sequence_count"] == 10 and tree.manifest["source"] == "synthetic"
    clips = tmp_path / "clips" / "synthetic"
    assert (clips / "manifest.json").is_file() and not list(clips.glob(".*"))


def test_slurm_array_script_with_a_failed_task_resubmitted(tmp_path: Path) -> None:
    script, submit = code_blocks("scale-out.md", "A SLURM array")
    assert script.startswith("#!/bin/bash") and "#SBATCH --array=0-7" in script
    (tmp_path / "prepare-ucf101.sh").write_text(script)
    submit = submit.replace("/data/", f"{tmp_path}/data/")
    arguments = shlex.split(re.search(r"sbatch --parsable prepare-ucf101.sh (.*)\)", submit)[1])
    make_ucf101(Path(arguments[0]))
    merge = shlex.split(re.search(r'--wrap "(.*)"', submit)[1])

    def array(indices: list[int]) -> None:
        """What sbatch --array=<indices> runs: every index at once, with SLURM's variables."""
        first = {"SLURM_ARRAY_TASK_MIN": str(min(indices)), "SLURM_ARRAY_TASK_COUNT": str(len(indices))}
        tasks = [
            subprocess.Popen(["bash", "prepare-ucf101.sh", *arguments], cwd=tmp_path, stderr=subprocess.PIPE,
                             env={**ENV, **first, "SLURM_ARRAY_TASK_ID": str(k), "SLURM_CPUS_PER_TASK": "1"})
            for k in indices
        ]  # fmt: skip
        for task in tasks:
            _, stderr = task.communicate(timeout=600)
            assert task.returncode == 0, stderr.decode()[-2000:]

    array([0, 1, 2, 4, 5, 6])  # tasks 3 and 7 "failed"
    missing = subprocess.run(merge, env=ENV, capture_output=True, text=True)
    assert missing.returncode == 2
    assert "2 of 8 tasks of `prepare ucf101` have not finished (--shard 3/8, 7/8)" in missing.stderr
    array([3, 7])  # sbatch --array=3,7 prepare-ucf101.sh ...
    merged = subprocess.run(merge, env=ENV, capture_output=True, text=True)
    assert merged.returncode == 0, merged.stderr
    out = Path(arguments[1])
    assert FrameTree(out).manifest["sequence_count"] == 11

    one_run = CliRunner().invoke(app, ["prepare", "ucf101", arguments[0], "-o", str(tmp_path / "one")])
    assert one_run.exit_code == 0, one_run.output
    assert tree_bytes(out) == tree_bytes(tmp_path / "one")


def test_kubernetes_indexed_job_and_merge_job(tmp_path: Path) -> None:
    (block,) = code_blocks("scale-out.md", "A Kubernetes indexed Job", language="yaml")
    prepare_job, merge_job = yaml.safe_load_all(block)
    assert prepare_job["spec"]["completionMode"] == "Indexed"
    count = prepare_job["spec"]["completions"]

    def command(job: dict) -> list[str]:
        (container,) = job["spec"]["template"]["spec"]["containers"]
        assert container["volumeMounts"] == [{"name": "data", "mountPath": "/data"}]
        words = [word.replace("/data/", f"{tmp_path}/data/") for word in container["command"]]
        assert words[0] == "framepred"
        return words[1:]

    make_ucf101(tmp_path / "data" / "raw" / "ucf101")
    runner = CliRunner()
    for index in reversed(range(count)):  # pods finish in any order
        pod = runner.invoke(app, command(prepare_job), env={"JOB_COMPLETION_INDEX": str(index)})
        assert pod.exit_code == 0, pod.output
    merged = runner.invoke(app, command(merge_job))
    assert merged.exit_code == 0 and f"merged {count} tasks of `prepare ucf101`" in merged.stderr
    assert FrameTree(tmp_path / "data" / "ucf101").manifest["splits"]["test"]["sequences"] == 4
