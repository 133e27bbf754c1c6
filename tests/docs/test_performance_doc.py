"""docs/performance.md: its framepred commands run as written, on small data made here, and so does
its onnxruntime example."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from framepred.cli.app import app
from framepred.data.tree import SequenceWriter
from framepred.io.images import write_image
from framepred.models import create_model

DOC = Path(__file__).resolve().parents[2] / "docs" / "performance.md"


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC.read_text(), flags=re.S)


def framepred_commands() -> list[str]:
    lines = [line.split("#")[0].strip() for block in blocks("bash") for line in block.splitlines()]
    return [line for line in lines if line.startswith("framepred ")]


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    """What the commands name: an official-style checkpoint, a frame folder, a small frame tree."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))  # no LPIPS backbone: left out with a warning
    monkeypatch.setattr("framepred.metrics.weights.ALEXNET_URL", (tmp_path / "offline.pth").as_uri())
    torch.manual_seed(0)
    torch.save({"module." + k: v for k, v in create_model("dmvfn").state_dict().items()}, "dmvfn_city.pkl")
    rng = np.random.default_rng(0)
    base = rng.integers(0, 200, (48, 64, 3))
    Path("frames").mkdir()
    for index in range(3):
        frame = np.clip(base + 3 * index, 0, 255).astype(np.uint8)
        write_image(Path("frames") / f"{index:06d}.png", frame)
        write_image(f"{index:06d}.png", frame)
    with SequenceWriter(Path("data/cityscapes"), "test", "seq0") as writer:
        for index in range(9):
            writer.write(np.clip(base + 3 * index, 0, 255).astype(np.uint8))
    return tmp_path


def run(command: str):
    return CliRunner().invoke(app, shlex.split(command)[1:])


def test_the_doc_has_the_commands_this_test_runs() -> None:
    commands = framepred_commands()
    assert any(c.startswith("framepred export") for c in commands)
    assert any("--batch-size" in c and c.startswith("framepred predict") for c in commands)
    assert any("onnxruntime" in block for block in blocks("python"))


def test_framepred_commands_run_as_written(workspace) -> None:
    for command in framepred_commands():
        if "export" in command and command.split("-o")[1].split()[0].endswith(".onnx"):
            continue  # the 9-block ONNX export takes a minute: see the slow test below
        result = run(command)
        assert result.exit_code == 0, f"{command}\n{result.output}"


@pytest.mark.slow
def test_onnx_export_commands_run_as_written(workspace) -> None:
    pytest.importorskip("onnxruntime")
    onnx = [c for c in framepred_commands() if "export" in c and ".onnx" in c]
    assert onnx
    for command in onnx:
        result = run(command)
        assert result.exit_code == 0, f"{command}\n{result.output}"


def test_onnxruntime_example_runs(workspace) -> None:
    pytest.importorskip("onnxruntime")
    from framepred.inference.export import export_model

    # A one-block export keeps this quick; the example reads any dmvfn_city.onnx the same way.
    export_model("dmvfn_city.onnx", "onnx", weights="dmvfn_city.pkl", blocks=[8])
    (example,) = [block for block in blocks("python") if "onnxruntime" in block]
    namespace: dict = {}
    exec(compile(example, str(DOC), "exec"), namespace)
    assert namespace["next_frame"].shape == (48, 64, 3) and namespace["next_frame"].dtype == np.uint8


def test_allocator_example_runs(workspace) -> None:
    (example,) = [block for block in blocks("python") if "tune_allocator" in block]
    # a fresh process: the settings would last for the rest of the test process
    env = {k: v for k, v in os.environ.items() if k != "FRAMEPRED_MALLOC_TUNE"}
    code = example + "\nprint(type(predictor).__name__)"
    run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and run.stdout.split()[-1] == "Predictor", run.stderr
