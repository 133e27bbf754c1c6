"""Clips per second: `framepred clip` against the one-clip-at-a-time baseline, side by side in one run.

Both read the same frames: every frame folder and video file in ../shared/data, resized to one size
(the baseline needs one size) and written as PNG frame folders. The baseline
(../shared/bench/baseline_process_data.py) runs in this process, single-threaded as it was written;
framepred runs the same clip count on one worker, --mid clips (50,000) on one worker, then --big
clips (500,000) on --workers (2). Small counts cost framepred mostly frame decoding (each frame once);
the per-clip cost shows at scale.

    .venv/bin/python benchmarks/bench_clip.py [--baseline-clips 300] [--mid 50000] [--big 500000] [-h]
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import os
import shutil
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from framepred.data.clips import extract_clips
from framepred.io.images import list_images, read_image, write_image
from framepred.io.video import VideoReader, is_video_file

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


def make_frames(source: Path, target: Path, width: int, height: int, with_videos: bool) -> tuple[int, int]:
    """Write each real sequence of ``source`` as PNG frames of width x height; returns (sequences, frames)."""
    sequences = frames = 0
    for entry in sorted(source.iterdir()):
        if not entry.is_dir():
            continue
        images = [read_image(p) for p in list_images(entry)]
        if not images and with_videos:
            for video in sorted(p for p in entry.iterdir() if is_video_file(p)):
                with VideoReader(video) as reader:
                    images = list(reader)
        if not images:
            continue
        folder = target / entry.name
        folder.mkdir(parents=True)
        for index, image in enumerate(images):
            small = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
            write_image(folder / f"{index:06d}.png", small)
        sequences, frames = sequences + 1, frames + len(images)
    return sequences, frames


def run_baseline(path: Path, frames: Path, out: Path, count: int) -> float:
    spec = importlib.util.spec_from_file_location("baseline_process_data", path)
    baseline = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(baseline)
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):  # it prints a line every 100 clips
        baseline.main(["--frames-dir", str(frames), "--out", str(out), "-n", str(count), "--seed", "0"])
    return time.perf_counter() - start


def run_ours(frames: Path, out: Path, count: int, workers: int) -> tuple[float, dict]:
    start = time.perf_counter()
    result = extract_clips(frames, out, count, workers=workers, seed=0)
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--baseline-clips", type=int, default=300, help="clips for the side-by-side rate")
    parser.add_argument(
        "--mid", type=int, default=50_000, help="clips for a one-worker run at scale (0 skips)"
    )
    parser.add_argument("--big", type=int, default=500_000, help="clips for the large run (0 skips it)")
    parser.add_argument("--workers", type=int, default=2, help="workers of the large run")
    parser.add_argument("--size", default="640x360", help="frame size both read, WIDTHxHEIGHT")
    parser.add_argument(
        "--no-videos", action="store_true", help="only the frame folders, not the video files"
    )
    parser.add_argument("--work", type=Path, default=None, help="scratch folder (default: a temporary one)")
    args = parser.parse_args()
    baseline_path = SHARED / "bench" / "baseline_process_data.py"
    if not (SHARED / "data").is_dir() or not baseline_path.exists():
        raise SystemExit(f"needs {SHARED / 'data'} and {baseline_path}")
    width, height = (int(v) for v in args.size.split("x"))

    work = Path(tempfile.mkdtemp(prefix="bench_clip_", dir=args.work))
    try:
        start = time.perf_counter()
        sequences, total = make_frames(SHARED / "data", work / "frames", width, height, not args.no_videos)
        prepared = time.perf_counter() - start
        print(
            f"frames: {sequences} sequences, {total} frames, {width}x{height} PNG ({prepared:.1f} s to make)"
        )
        print(f"load average before: {os.getloadavg()[0]:.1f}")

        rows = []
        seconds = run_baseline(baseline_path, work / "frames", work / "baseline", args.baseline_clips)
        base_rate = args.baseline_clips / seconds
        size_mb = sum(p.stat().st_size for p in (work / "baseline").iterdir()) / 1e6
        rows.append(("baseline (1 process)", args.baseline_clips, seconds, base_rate, size_mb))
        shutil.rmtree(work / "baseline")

        seconds, result = run_ours(work / "frames", work / "small", args.baseline_clips, workers=1)
        rows.append(("framepred clip, 1 worker", args.baseline_clips, seconds, args.baseline_clips / seconds,
                     _megabytes(work / "small")))  # fmt: skip
        shutil.rmtree(work / "small")
        if args.mid:
            seconds, result = run_ours(work / "frames", work / "mid", args.mid, workers=1)
            rows.append(
                ("framepred clip, 1 worker", args.mid, seconds, args.mid / seconds, _megabytes(work / "mid"))
            )
            shutil.rmtree(work / "mid")
        if args.big:
            seconds, result = run_ours(work / "frames", work / "big", args.big, workers=args.workers)
            rows.append((f"framepred clip, {args.workers} workers", args.big, seconds, args.big / seconds,
                         _megabytes(work / "big")))  # fmt: skip
            stats = result["stats"]
            shutil.rmtree(work / "big")

        print(
            f"\n{'run':<28} {'clips':>9} {'seconds':>9} {'clips/s':>10} {'vs baseline':>12} {'output MB':>10}"
        )
        for name, count, seconds, rate, size_mb in rows:
            ratio = rate / base_rate
            print(f"{name:<28} {count:>9,} {seconds:>9.2f} {rate:>10,.1f} {ratio:>11,.0f}x {size_mb:>10,.0f}")
        if args.big:
            minutes = rows[-1][2] / 60
            print(f"\n{args.big:,} clips: {minutes:.2f} min on {args.workers} workers "
                  f"(target < 10 min: {'met' if minutes < 10 else 'NOT met'}); "
                  f"filter: {stats['passed_fraction']:.1%} above the threshold, "
                  f"{stats['mean_tries']:.2f} crops tried per clip")  # fmt: skip
        print(f"load average after: {os.getloadavg()[0]:.1f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _megabytes(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.iterdir()) / 1e6


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
