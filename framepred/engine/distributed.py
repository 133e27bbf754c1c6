"""Distributed training: read torchrun's environment, and re-launch a command under it.

``framepred train --gpus N`` (CUDA, NCCL) and ``--nproc N`` (CPU, gloo) re-run the same command
under ``python -m torch.distributed.run`` so nobody types torchrun; the multi-node options pass
through. A process started by torchrun (``WORLD_SIZE`` etc. in the environment) joins the group.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass

import torch
import torch.distributed as dist

LAUNCH_OPTIONS = ("--gpus", "--nproc", "--nnodes", "--node-rank", "--master-addr", "--master-port")


@dataclass(frozen=True)
class DistInfo:
    rank: int = 0
    local_rank: int = 0
    world_size: int = 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1


def from_environment() -> DistInfo:
    """Rank, local rank and world size from torchrun's variables (a single process without them)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    return DistInfo(int(os.environ.get("RANK", "0")), int(os.environ.get("LOCAL_RANK", "0")), world)


def init_process_group(info: DistInfo, device: torch.device) -> None:
    """Join the process group (NCCL on CUDA, gloo otherwise) when there is more than one process."""
    if info.enabled and not dist.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        dist.init_process_group(backend=backend, init_method="env://")


def barrier(info: DistInfo) -> None:
    if info.enabled and dist.is_initialized():
        dist.barrier()


def mean_across(value: torch.Tensor, info: DistInfo) -> torch.Tensor:
    """The mean of a scalar tensor over all processes (itself when alone)."""
    if not info.enabled:
        return value
    value = value.detach().clone()
    dist.all_reduce(value)
    return value / info.world_size


def shutdown(info: DistInfo) -> None:
    if info.enabled and dist.is_initialized():
        dist.destroy_process_group()


def strip_launch_options(argv: list[str]) -> list[str]:
    """``argv`` without the launcher's own options (``--gpus 2`` and ``--gpus=2`` forms)."""
    kept, skip = [], False
    for arg in argv:
        if skip:
            skip = False
            continue
        name = arg.split("=", 1)[0]
        if name in LAUNCH_OPTIONS:
            skip = "=" not in arg
            continue
        kept.append(arg)
    return kept


def launch_command(
    argv: list[str],
    nproc: int,
    nnodes: int = 1,
    node_rank: int = 0,
    master_addr: str | None = None,
    master_port: int | None = None,
) -> list[str]:
    """The ``torch.distributed.run`` command line that runs ``python -m framepred <argv>`` nproc times."""
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        f"--nproc-per-node={nproc}",
        f"--nnodes={nnodes}",
    ]
    if nnodes == 1 and master_addr is None:
        command.append("--standalone")  # picks a free local port
    else:
        command += [f"--node-rank={node_rank}", f"--master-addr={master_addr or '127.0.0.1'}"]
        command.append(f"--master-port={master_port or 29500}")
    return [*command, "-m", "framepred", *argv]


def relaunch(command: list[str]) -> int:
    """Run the launcher in the foreground; its exit status becomes ours."""
    env = dict(os.environ)
    env.setdefault("OMP_NUM_THREADS", "1")  # torchrun's default; stated so it is not warned about
    return subprocess.call(command, env=env)
