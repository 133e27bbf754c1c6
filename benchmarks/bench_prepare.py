"""Frames per second of `framepred prepare cityscapes` on full-size (2048x1024) input, 1 vs 2 workers.

Builds a miniature ``leftImg8bit_sequence`` tree from the real 2048x1024 Cityscapes frames in
../shared/data/cityscapes_aachen_seq0003_vid2vid (20 JPGs, stored as PNG like the official archive;
a 30-frame snippet cycles through them, repeated files are hard links), then prepares it at the
official 1024x512 with each worker count, side by side in one run, on a fresh output each time.

    .venv/bin/python benchmarks/bench_prepare.py --snippets 4 --repeats 2 --workers 1 2
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import cv2

from framepred.data.prepare.cityscapes import prepare_cityscapes
from framepred.io.images import list_images, read_image

WIDTHS = (7, 6, 9, 9, 8, 12)
SOURCE = Path(__file__).resolve().parents[2] / "shared" / "data" / "cityscapes_aachen_seq0003_vid2vid"


def build_raw(raw: Path, snippets: int) -> int:
    """``raw/leftImg8bit_sequence/train/aachen/aachen_<seq>_<frame>_leftImg8bit.png``; returns frame count."""
    sources = list_images(SOURCE)
    if not sources:
        sys.exit(f"no frames in {SOURCE}; this benchmark needs ../shared/data")
    city = raw / "leftImg8bit_sequence" / "train" / "aachen"
    city.mkdir(parents=True)
    pngs = []
    for index, path in enumerate(sources):
        png = raw / f"source_{index:02d}.png"
        cv2.imwrite(str(png), cv2.cvtColor(read_image(path), cv2.COLOR_RGB2BGR))
        pngs.append(png)
    for seq in range(snippets):
        for frame in range(30):
            os.link(pngs[frame % len(pngs)], city / f"aachen_{seq:06d}_{frame:06d}_leftImg8bit.png")
    return snippets * 30


def cpu_seconds() -> float:
    """User + system time of this process and of its finished child processes (the pool's workers)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--snippets", type=int, default=4, help="30-frame snippets in the raw tree")
    parser.add_argument("--repeats", type=int, default=2, help="runs per worker count (median reported)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--tmp", type=Path, default=None, help="scratch folder (default: system temp)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(dir=args.tmp) as scratch:
        raw = Path(scratch) / "raw"
        frames = build_raw(raw, args.snippets)
        size = cv2.imread(str(next((raw / "leftImg8bit_sequence" / "train" / "aachen").iterdir()))).shape
        print(
            f"input: {frames} frames of {size[1]}x{size[0]} PNG -> 1024x512; cpus: {os.cpu_count()}; "
            f"load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())}"
        )
        prepare_cityscapes(raw, Path(scratch) / "warm", workers=1)  # page cache and imports warm
        timings: dict[int, list[float]] = {w: [] for w in args.workers}
        cpu: dict[int, list[float]] = {w: [] for w in args.workers}
        for _ in range(args.repeats):
            for workers in args.workers:  # interleaved, so load changes hit every worker count alike
                out = Path(scratch) / f"out_{workers}"
                cpu_start = cpu_seconds()
                start = time.perf_counter()
                result = prepare_cityscapes(raw, out, workers=workers)
                timings[workers].append(time.perf_counter() - start)
                cpu[workers].append(cpu_seconds() - cpu_start)
                assert result.frames == frames
                shutil.rmtree(out)

    # CPU time per frame (this process plus its workers) barely depends on other users' load; wall time does.
    base = statistics.median(timings[args.workers[0]])
    header = ("workers", "frames", "median s", "frames/s", "speed-up", "cpu ms/frame")
    print(" ".join(f"{h:>{w}}" for h, w in zip(header, WIDTHS)) + "  runs (s)")
    for workers, runs in timings.items():
        median = statistics.median(runs)
        cpu_ms = 1000 * statistics.median(cpu[workers]) / frames
        cells = (f"{workers}", f"{frames}", f"{median:.2f}", f"{frames / median:.1f}", f"{base / median:.2f}")
        cells += (f"{cpu_ms:.1f}",)
        print(
            " ".join(f"{c:>{w}}" for c, w in zip(cells, WIDTHS)) + "  " + " ".join(f"{r:.2f}" for r in runs)
        )


if __name__ == "__main__":
    main()
