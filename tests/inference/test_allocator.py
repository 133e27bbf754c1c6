"""The commands' allocator settings: applied by predict, rollout and evaluate when they start, taking
effect in a process where torch already runs, skipped where they cannot apply, outputs unchanged."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from framepred.cli.app import app
from framepred.inference import allocator
from framepred.io.images import read_image, write_image
from framepred.models import create_model

GLIBC = sys.platform.startswith("linux") and allocator._is_glibc()


def clean_environment() -> dict[str, str]:
    """This process's environment without the variables that turn the tuning off."""
    env = {k: v for k, v in os.environ.items() if k not in allocator._USER_SETTINGS}
    env.pop(allocator.ENV_VAR, None)
    env.pop("GLIBC_TUNABLES", None)
    return env


def test_env_var_turns_it_off_without_calling_mallopt(monkeypatch) -> None:
    def no_libc(*args, **kwargs):
        raise AssertionError("mallopt must not be looked up when tuning is off")

    monkeypatch.setattr(allocator.ctypes, "CDLL", no_libc)
    for value in ("0", "false", "off"):
        monkeypatch.setenv(allocator.ENV_VAR, value)
        assert allocator.skip_reason() == f"FRAMEPRED_MALLOC_TUNE={value}"
        assert allocator.tune_allocator() is False


def test_the_users_own_settings_win() -> None:
    env = {**clean_environment(), "MALLOC_ARENA_MAX": "4"}
    assert allocator.skip_reason(env) == "the allocator is set by MALLOC_ARENA_MAX"
    env = {**clean_environment(), "GLIBC_TUNABLES": "glibc.malloc.trim_threshold=0"}
    assert allocator.skip_reason(env) == "the allocator is set by GLIBC_TUNABLES"


def test_a_silent_no_op_off_glibc(monkeypatch) -> None:
    monkeypatch.delenv(allocator.ENV_VAR)
    monkeypatch.setattr(allocator.sys, "platform", "darwin")
    assert allocator.skip_reason(clean_environment()) == "not glibc"
    monkeypatch.setattr(allocator.sys, "platform", "linux")

    def no_glibc(name: str) -> str:
        raise ValueError("unrecognized configuration name")  # what musl's Python raises

    monkeypatch.setattr(allocator.os, "confstr", no_glibc)
    assert allocator.skip_reason(clean_environment()) == "not glibc"
    assert allocator.tune_allocator() is False


FAULTS = """
import resource, sys, torch
import framepred.cli.app, framepred.inference  # importing framepred must change nothing
from framepred.inference.allocator import tune_allocator
applied = tune_allocator() if sys.argv[1] == "call" else None  # after torch started, as in the commands
def faults() -> int:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    torch.empty(25_000_000).fill_(1.0)  # 100 MB, freed at once
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
# The first calls fault in any case: their pages are new, and a freed block that ends below a small
# later allocation cannot take the next (padded, aligned) request until its neighbour is freed too.
for _ in range(4):
    faults()
print(applied, min(faults() for _ in range(4)))
"""


@pytest.mark.skipif(not GLIBC, reason="glibc's mallopt")
@pytest.mark.parametrize(
    "how, env_value, applied",
    [("call", None, "True"), ("call", "0", "False"), ("import only", None, "None")],
)
def test_freed_memory_is_reused_without_page_faults(how: str, env_value: str | None, applied: str) -> None:
    env = clean_environment()
    if env_value is not None:
        env[allocator.ENV_VAR] = env_value
    command = [sys.executable, "-c", FAULTS, how]
    output = subprocess.run(command, env=env, capture_output=True, text=True, check=True, timeout=120)
    result, faults = output.stdout.split()
    assert result == applied
    # 100 MB is 24 414 pages of 4 KiB: untuned, glibc maps a block that big afresh every time; tuned,
    # the heap is reused once it has settled (in about one process in five, the fifth call still faults)
    assert faults.isdigit() and (int(faults) < 1000 if applied == "True" else int(faults) > 20000)


@pytest.mark.parametrize(
    "command",
    [
        ["predict", "{in}/000000.png", "{in}/000001.png", "-o", "{out}/p.png", "--model", "copy-last"],
        ["rollout", "{in}/000000.png", "{in}/000001.png", "-n", "1", "-o", "{out}/r", "--model", "linear"],
        ["evaluate", "--pred", "{in}", "--gt", "{in}", "--metrics", "psnr", "--device", "cpu"],
    ],
)
def test_the_inference_commands_tune_the_allocator(tmp_path, monkeypatch, command: list[str]) -> None:
    calls = []
    monkeypatch.setattr(allocator, "tune_allocator", lambda: calls.append(True) or True)
    folder = tmp_path / "in"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for index in range(2):
        write_image(folder / f"{index:06d}.png", rng.integers(0, 256, (32, 48, 3), dtype=np.uint8))
    args = [a.format(**{"in": folder, "out": tmp_path}) for a in command]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert calls == [True]


@pytest.mark.skipif(not GLIBC, reason="glibc's mallopt")
def test_tuning_does_not_change_the_prediction(tmp_path) -> None:
    torch.manual_seed(0)
    weights = tmp_path / "dmvfn.pkl"
    torch.save({"module." + k: v for k, v in create_model("dmvfn").state_dict().items()}, weights)
    rng = np.random.default_rng(0)
    frames = [tmp_path / f"{index}.png" for index in range(2)]
    for path in frames:
        write_image(path, rng.integers(0, 256, (64, 96, 3), dtype=np.uint8))
    outputs = []
    for value in ("1", "0"):
        out = tmp_path / f"pred-{value}.png"
        command = [sys.executable, "-m", "framepred", "predict", *map(str, frames), "-o", str(out)]
        command += ["--weights", str(weights), "--routing", "all", "--device", "cpu"]
        env = {**clean_environment(), allocator.ENV_VAR: value}
        subprocess.run(command, env=env, capture_output=True, text=True, check=True, timeout=300)
        outputs.append(read_image(out))
    assert np.array_equal(*outputs)
