"""`framepred demo --model NAME`: the built-in synthetic data, a short training, scores against the
baselines and a GIF, in one folder; no download. One module per family (``demo/<family>.py``) defines
``run(options) -> DemoResult``; the shared steps live in ``demo/common.py``.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from framepred.errors import UsageError

# family -> the module with its demo (imported when asked for: each imports torch)
DEMOS = {
    "dmvfn": "framepred.demo.dmvfn",
    "msgan": "framepred.demo.msgan",
    "fusion": "framepred.demo.fusion",
    "videogan": "framepred.demo.videogan",
}


@dataclass(frozen=True)
class DemoOptions:
    out: Path = Path("runs/demo")
    steps: int | None = None  # default: the family demo's own
    max_minutes: float | None = None  # default: the family demo's own
    # Small convolutions gain little from several intra-op threads, and spinning threads collapse
    # (10x slower, measured) when the CPU is shared; the previous setting is restored afterwards.
    threads: int | None = 1
    seed: int = 0
    device: str = "cpu"


@dataclass
class DemoResult:
    title: str  # what the table scores, e.g. "next-frame scores on the synthetic test split (8 windows)"
    # label -> metric -> value, the trained model first; a metric may name a step after a space ("psnr t+1")
    rows: dict[str, dict[str, float]]
    files: dict[str, str]  # what was written, e.g. {"rollout": "runs/demo/rollout.gif"}
    steps: int
    beats_baselines: bool
    extra: dict[str, Any] = field(default_factory=dict)
    # more tables to print after the first, each (title, label -> column -> value), e.g. per step
    tables: list[tuple[str, dict[str, dict[str, float]]]] = field(default_factory=list)


def run_demo(model: str, options: DemoOptions) -> DemoResult:
    if model not in DEMOS:
        raise UsageError(f"no demo for {model!r}: choose one of {', '.join(DEMOS)}")
    import torch

    previous = torch.get_num_threads()
    if options.threads is not None:
        torch.set_num_threads(options.threads)
    try:
        return importlib.import_module(DEMOS[model]).run(options)
    finally:
        torch.set_num_threads(previous)
