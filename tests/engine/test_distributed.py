import socket

import pytest
import torch
import torch.multiprocessing as mp

import tests.engine.toy_gan  # noqa: F401  (registers the two-network test recipe)
from framepred.engine.config import TrainConfig
from framepred.engine.distributed import launch_command, strip_launch_options
from tests.engine.engine_helpers import ddp_worker, first_round_gradients, moving_squares_tree, tiny_config


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _toy_config(tree, run_dir, batch_size):
    return TrainConfig(
        task="toy-gan",
        data=str(tree),
        run_dir=str(run_dir),
        steps=1,
        batch_size=batch_size,
        device="cpu",
        seed=7,
    )


@pytest.mark.parametrize("recipe", ["dmvfn", "toy-gan"])
def test_two_process_gloo_gradients_equal_single_process(tmp_path, recipe, monkeypatch):
    monkeypatch.setenv("FRAMEPRED_PLUGINS", "tests.engine.toy_gan")  # for the spawned processes
    tree = moving_squares_tree(tmp_path / "tree")
    make = tiny_config if recipe == "dmvfn" else _toy_config
    # One process with batch 2 sees the same two clips as two processes with batch 1 each.
    single = tmp_path / "single.pt"
    first_round_gradients(make(tree, tmp_path / "a", batch_size=2), single)
    ddp = tmp_path / "ddp.pt"
    mp.spawn(ddp_worker, args=(2, _free_port(), make(tree, tmp_path / "b", batch_size=1), ddp), nprocs=2)
    expected, got = torch.load(single), torch.load(ddp)
    assert set(expected) == set(got) == ({"train"} if recipe == "dmvfn" else {"D", "G"})
    for phase, grads in expected.items():
        assert set(grads) == set(got[phase]) and grads
        for name, grad in grads.items():
            torch.testing.assert_close(got[phase][name], grad, rtol=1e-4, atol=1e-6, msg=f"{phase} {name}")


def test_launch_options_are_stripped_and_passed_through():
    argv = ["train", "dmvfn", "--gpus", "2", "--data", "d", "--nproc=3", "--master-port", "1", "--steps", "5"]
    assert strip_launch_options(argv) == ["train", "dmvfn", "--data", "d", "--steps", "5"]
    local = launch_command(["train"], 2)
    assert "--standalone" in local and "--nproc-per-node=2" in local
    assert local[-3:] == ["-m", "framepred", "train"]
    multi = launch_command(["train"], 8, nnodes=2, node_rank=1, master_addr="10.0.0.1", master_port=1234)
    for part in ("--nnodes=2", "--node-rank=1", "--master-addr=10.0.0.1", "--master-port=1234"):
        assert part in multi
    assert "--standalone" not in multi


@pytest.mark.parametrize("world", [1])
def test_single_process_environment(world, monkeypatch):
    from framepred.engine.distributed import from_environment

    monkeypatch.delenv("WORLD_SIZE", raising=False)
    info = from_environment()
    assert (info.rank, info.world_size, info.is_main, info.enabled) == (0, world, True, False)
