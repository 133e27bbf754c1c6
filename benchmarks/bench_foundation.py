"""Start-up time of `framepred --help` and `prepare videos` throughput on a real clip.

    python benchmarks/bench_foundation.py [--runs 10]

Prints a table. `--help` must never import torch, so its time is the CLI's floor; `prepare videos`
is decode + PNG encode of the 960x540 udacity clip (221 frames) from ../shared/data.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CLIP = (
    Path(__file__).resolve().parents[2]
    / "shared"
    / "data"
    / "udacity_highway_solidWhiteRight"
    / "solidWhiteRight.mp4"
)


def wall_seconds(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    cli = [sys.executable, "-m", "framepred"]
    rows = []
    helps = [wall_seconds([*cli, "--help"]) for _ in range(args.runs)]
    rows.append(("framepred --help", f"{statistics.median(helps) * 1000:.0f} ms", f"median of {args.runs}"))
    imports = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "framepred", "--help"], capture_output=True, text=True
    ).stderr
    rows.append(("torch imported by --help", str("| torch" in imports), ""))
    if CLIP.exists():
        for size, workers in ((None, 1), (None, 2), ("480x270", 1), ("480x270", 2)):
            with tempfile.TemporaryDirectory() as out:
                extra = ["--size", size] if size else []
                command = [*cli, "prepare", "videos", str(CLIP), "-o", out, "--workers", str(workers), *extra]
                seconds = wall_seconds(command)
                frames = len(list(Path(out).rglob("*.png")))
            label = f"prepare videos udacity ({size or '960x540'}, {workers} worker{'s' * (workers > 1)})"
            rows.append((label, f"{frames / seconds:.1f} frames/s", f"{frames} frames in {seconds:.2f} s"))
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  {'value':>16}  note")
    for name, value, note in rows:
        print(f"{name:<{width}}  {value:>16}  {note}")


if __name__ == "__main__":
    main()
