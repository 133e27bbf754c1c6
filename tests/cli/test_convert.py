"""`framepred convert`: official DMVFN checkpoint -> framepred safetensors."""

from __future__ import annotations

import json

import torch
from typer.testing import CliRunner

from framepred.cli.app import app
from framepred.models import create_model, load_model

runner = CliRunner()


def test_convert_official_checkpoint(tmp_path) -> None:
    torch.manual_seed(0)
    state = {"module." + k: torch.randn_like(v) for k, v in create_model("dmvfn").state_dict().items()}
    source, out = tmp_path / "dmvfn_kitti.pkl", tmp_path / "kitti.safetensors"
    torch.save(state, source)
    result = runner.invoke(app, ["convert", str(source), "-o", str(out), "--json"])
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert (
        record["model"] == "dmvfn" and record["colour_order"] == "BGR" and record["parameters"] == 3_559_930
    )
    loaded = load_model(out)
    assert loaded.colour_order == "BGR" and loaded.meta["converted_from"] == "dmvfn_kitti.pkl"
    for key, value in state.items():
        assert torch.equal(loaded.model.state_dict()[key[len("module.") :]], value)


def test_convert_errors(tmp_path) -> None:
    bad = tmp_path / "bad.pkl"
    bad.write_bytes(b"\x00" * 64)
    for args, fragment in [
        ([str(bad), "-o", str(tmp_path / "x.safetensors")], "bad.pkl"),
        ([str(bad), "-o", str(tmp_path / "x.pt")], ".safetensors"),
        ([str(tmp_path / "none.pkl"), "-o", str(tmp_path / "x.safetensors")], "none.pkl"),
    ]:
        result = runner.invoke(app, ["convert", *args])
        assert result.exit_code == 2, result.output
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and fragment in lines[0]
    assert not (tmp_path / "x.safetensors").exists()
