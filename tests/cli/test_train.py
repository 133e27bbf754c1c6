import csv
import json
import os
import subprocess
import sys

import pytest
import torch
from typer.testing import CliRunner

from framepred.cli.app import app
from tests.engine.engine_helpers import TINY_MODEL, moving_squares_tree

runner = CliRunner()


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    return moving_squares_tree(tmp_path_factory.mktemp("tree"))


def _args(tree, run_dir, *extra):
    return [
        "train", "dmvfn", "--data", str(tree), "--run-dir", str(run_dir), "--batch-size", "2", "--crop", "64",
        "--clip-frames", "4", "--no-perceptual", "--model-config", json.dumps(TINY_MODEL), "--device", "cpu",
        *extra,
    ]  # fmt: skip


def test_train_then_extend_with_resume(tree, tmp_path):
    run = tmp_path / "run"
    result = runner.invoke(
        app, [*_args(tree, run, "--steps", "2", "--lr", "5e-4", "--warmup", "7"), "--json"]
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["steps"] == 2 and out["val_psnr"] > 0 and out["copy_last_psnr"] > 0
    with open(run / "config.yaml") as handle:
        config = handle.read()
    assert "lr: 0.0005" in config and "warmup: 7" in config and "perceptual: false" in config
    # Resume reads config.yaml; only the run length changes.
    result = runner.invoke(
        app, ["train", "dmvfn", "--run-dir", str(run), "--resume", "--steps", "3", "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["steps"] == 3
    with open(run / "metrics.csv") as handle:
        assert [r["step"] for r in csv.DictReader(handle) if r["kind"] == "train"] == ["1", "2", "3"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--steps", "2", "--model-config", "{bad"], "--model-config: '{bad' is not valid JSON"),
        (["--steps", "2", "--crop", "big"], "argument --crop: invalid int value: 'big'"),
        (["--steps", "2", "--crop", "50"], "--crop 50: DMVFN's Laplacian loss"),
        (["--steps", "2", "--bogus", "1"], "has no option '--bogus'"),
        (["--steps", "2", "--crop", "256"], "smaller than the 256x256 crop; lower --crop"),
        (["--steps", "2", "--gpus", "2"], "--gpus 2 asked for"),
        (["--steps", "2", "--gpus", "1", "--nproc", "2"], "not both"),
        (["--steps", "2", "--epochs", "1"], "exactly one"),
        (["--steps", "2", "--amp", "fp8"], "unknown --amp"),
    ],
)
def test_bad_options_exit_2_with_one_line(tree, tmp_path, extra, message):
    if "--gpus" in extra and torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    result = runner.invoke(app, _args(tree, tmp_path / "r", *extra))
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output


def test_resume_needs_a_run_dir():
    result = runner.invoke(app, ["train", "dmvfn", "--resume", "--data", "x", "--steps", "1"])
    assert result.exit_code == 2 and "--run-dir" in result.output


def test_missing_vgg_weights_is_a_clear_error(tree, tmp_path):
    # --no-perceptual is in the base arguments; drop it to exercise the VGG path.
    args = [a for a in _args(tree, tmp_path / "r2", "--steps", "1") if a != "--no-perceptual"]
    result = runner.invoke(app, [*args, "--vgg-weights", str(tmp_path / "none.pth")])
    assert result.exit_code == 2
    assert "VGG19 weights not found" in result.output and "--no-perceptual" in result.output


@pytest.mark.slow
def test_nproc_2_runs_ddp_on_cpu_and_matches_one_process(tree, tmp_path):
    """Two gloo processes with batch 1 log the same first-step loss as one process with batch 2."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    config = json.dumps({**TINY_MODEL, "routing": "all"})
    base = [
        sys.executable,
        "-m",
        "framepred",
        *_args(tree, tmp_path, "--steps", "1", "--model-config", config),
    ]
    single = [*base, "--run-dir", str(tmp_path / "one"), "--batch-size", "2"]
    ddp = [*base, "--run-dir", str(tmp_path / "two"), "--batch-size", "1", "--nproc", "2"]
    subprocess.run(single, check=True, env=env, capture_output=True, timeout=300)
    done = subprocess.run(ddp, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "x 2 processes = global batch 2" in done.stderr
    rows = {}
    for name in ("one", "two"):
        with open(tmp_path / name / "metrics.csv") as handle:
            rows[name] = [r for r in csv.DictReader(handle) if r["kind"] == "train"]
    assert float(rows["two"][0]["loss"]) == pytest.approx(float(rows["one"][0]["loss"]), rel=1e-5)


def test_recipe_help_lists_the_recipes_own_options_with_defaults():
    result = runner.invoke(app, ["train", "dmvfn", "--help"])
    assert result.exit_code == 0, result.output
    for text in (
        "--steps",
        "--val-fraction",
        "options of the 'dmvfn' recipe",
        "--clip-frames INT",
        "--model-config",
    ):
        assert text in result.output, text
    import tests.engine.toy_gan  # noqa: F401  (a plugin recipe gets its help the same way)

    toy = runner.invoke(app, ["train", "toy-gan", "--help"])
    assert toy.exit_code == 0 and "--g-every INT" in toy.output and "--clip-frames" not in toy.output


def test_train_help_without_a_recipe_does_not_import_torch():
    code = "import sys; from framepred.cli.app import main; sys.argv=['framepred','train','--help']\n"
    code += "try:\n    main()\nexcept SystemExit:\n    pass\nprint('torch' in sys.modules)"
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    words = " ".join(output.split())  # rich wraps the help at the terminal's width
    assert output.strip().endswith("False") and "train NAME --help" in words


def test_resume_with_other_recipe_options_is_refused(tree, tmp_path):
    run = tmp_path / "run"
    assert runner.invoke(app, _args(tree, run, "--steps", "1", "--val-every", "9")).exit_code == 0
    again = runner.invoke(app, [*_args(tree, run, "--steps", "2"), "--resume"])  # same options: fine
    assert again.exit_code == 0, again.output
    other = runner.invoke(app, [*_args(tree, run, "--steps", "3", "--clip-frames", "5"), "--resume"])
    assert other.exit_code == 2 and "was started with clip_frames=4" in other.output


def test_init_takes_a_weights_name_and_says_what_does_not_fit(tree, tmp_path):
    bundled = json.dumps({"features": [32, 32, 32, 16, 16, 16, 8, 8, 8], "routing": "all"})
    args = _args(
        tree, tmp_path / "r", "--steps", "1", "--model-config", bundled, "--init", "framepred-dmvfn-small"
    )
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "initialised model from" in result.output
    wrong = runner.invoke(
        app, [*_args(tree, tmp_path / "w", "--steps", "1"), "--init", "framepred-dmvfn-small"]
    )
    assert wrong.exit_code == 2 and "give the recipe the checkpoint's model options" in wrong.output
