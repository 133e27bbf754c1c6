"""``framepred demo --model fusion``: what it writes, and that its default run's U-Net beats repeating
the last fusion image (the frames do not beat copy-last yet: docs/fusion.md says why)."""

import json

import pytest
from typer.testing import CliRunner

from framepred.cli.app import app

runner = CliRunner()


@pytest.mark.slow  # data, fusion images, three short stages, evaluation, GIF
def test_demo_writes_everything_and_prints_json(tmp_path):
    result = runner.invoke(app, ["demo", "--model", "fusion", "-o", str(tmp_path), "--steps", "2", "--json"])
    assert result.exit_code == 0, result.output
    scores = json.loads(result.stdout)
    assert {"fusion", "no-motion", "copy-last", "unet fusion images"} <= set(scores)
    assert set(scores["unet fusion images"]) == {"U-Net", "repeat last fusion image"}
    for name in ("rollout.gif", "results.json", "per_step.csv", "run/checkpoints/last/model.safetensors"):
        assert (tmp_path / name).is_file(), name
    summary = json.loads((tmp_path / "results.json").read_text())
    assert summary["steps"] == {"unet": 2, "translator": 1, "sharpen": 1}  # --steps scales every stage


@pytest.mark.slow  # the default demo: about seven CPU minutes
def test_default_demo_unet_beats_repeating_the_last_fusion_image(tmp_path):
    result = runner.invoke(app, ["demo", "--model", "fusion", "-o", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    fusion = json.loads(result.stdout)["unet fusion images"]
    assert fusion["U-Net"]["psnr mean"] > fusion["repeat last fusion image"]["psnr mean"]


def test_fusion_trees_of_other_options_get_their_own_folder(tmp_path):
    from framepred.demo import fusion as demo
    from framepred.errors import UsageError

    assert demo.fusion_folder_name(demo.FUSION) == "fusion"
    name = demo.fusion_folder_name({**demo.FUSION, "edges": "gradient", "edge_weight": 5.0})
    assert name == "fusion-edge_weight-5-edges-gradient"
    with pytest.raises(UsageError, match="unknown --edges"):  # refused before any data is made
        demo.demo_trees(tmp_path, 0, {"edges": "sobel"})
    assert not any(tmp_path.iterdir())
