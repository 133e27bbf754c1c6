"""`framepred export` through the typer app: TorchScript and ONNX files, and its one-line errors."""

from __future__ import annotations

import json

import pytest
import torch
from typer.testing import CliRunner

from framepred.cli.app import app
from framepred.inference.export import run_exported
from framepred.models import create_model
from tests.helpers import one_line_error

runner = CliRunner()


@pytest.fixture(scope="module")
def official(tmp_path_factory):
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("weights") / "dmvfn_city.pkl"
    torch.save({"module." + k: v for k, v in create_model("dmvfn").state_dict().items()}, path)
    return path


def test_export_torchscript_with_a_block_mask(tmp_path, official) -> None:
    out = tmp_path / "dmvfn_city.pt"
    result = runner.invoke(
        app, ["export", "--weights", str(official), "-o", str(out), "--blocks", "0,4,8", "--json"]
    )
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert record["format"] == "torchscript" and record["colour_order_of_weights"] == "BGR"
    assert record["config"]["routing"] == "all" and record["config"]["blocks"] == [0, 4, 8]
    prediction = run_exported(out, "torchscript", torch.rand(2, 6, 48, 80))
    assert prediction.shape == (2, 3, 48, 80) and 0 <= float(prediction.min()) <= float(prediction.max()) <= 1


def test_export_onnx_of_a_baseline(tmp_path) -> None:
    pytest.importorskip("onnxruntime")
    out = tmp_path / "linear.onnx"
    result = runner.invoke(app, ["export", "--model", "linear", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "wrote" in result.stderr and out.is_file()
    frames = torch.rand(1, 6, 20, 30)
    expected = (2 * frames[:, 3:] - frames[:, :3]).clamp(0, 1)
    torch.testing.assert_close(run_exported(out, "onnx", frames), expected)


def test_export_errors_are_one_line(tmp_path, official, monkeypatch) -> None:
    one_line_error(
        runner.invoke(
            app, ["export", "-w", str(official), "-o", str(tmp_path / "m.pt"), "--routing", "sample"]
        ),
        "--routing all",
    )
    one_line_error(
        runner.invoke(app, ["export", "--model", "linear", "-o", str(tmp_path / "m.bin")]), "--format"
    )
    one_line_error(
        runner.invoke(app, ["export", "-w", str(tmp_path / "nope.pkl"), "-o", str(tmp_path / "m.pt")]),
        "nope.pkl",
    )
    one_line_error(
        runner.invoke(app, ["export", "-w", str(official), "-o", str(tmp_path / "m.pt"), "--blocks", "a"]),
        "--blocks",
    )
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda n, *a: None if n == "onnx" else real(n, *a))
    one_line_error(
        runner.invoke(app, ["export", "--model", "linear", "-o", str(tmp_path / "m.onnx")]),
        "pip install 'framepred[export]' -c constraints.txt",
    )
    assert not list(tmp_path.glob("m.*"))
