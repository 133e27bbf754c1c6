"""What splitting data work into job-array tasks costs: 4 `--shard K/4` processes vs one run with 4 workers.

Side by side in one run, on the same input, each through the command line in fresh processes:

* `framepred prepare videos` on the real videos of ../shared/data (each given twice, so 8 inputs),
  resized to --size;
* `framepred clip` on the frame tree that made, -n clips.

"4 tasks" starts the four tasks at once (as a job array on one machine would) and then runs the merge;
"1 run" is one process with `--workers 4`. Wall time is from the first start to the end of the merge;
CPU time is user + system of every process involved (the tasks, their pool workers, the merge). The
two outputs are compared byte for byte. Repeats are interleaved, medians reported.

    python benchmarks/bench_shard.py --repeats 2
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
VIDEOS = [
    DATA / "udacity_highway_solidWhiteRight" / "solidWhiteRight.mp4",
    DATA / "imageio_cockatoo" / "cockatoo.mp4",
    DATA / "intel_asl_walk" / "walk.mkv",
    DATA / "sam2_juggle" / "05_default_juggle.mp4",
]
CLI = [sys.executable, "-m", "framepred", "--quiet"]


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(commands: list[list[str]], then: list[str] | None = None) -> tuple[float, float]:
    """Run ``commands`` at the same time, then ``then``; (wall seconds, CPU seconds) of all of it."""
    cpu, start = children_cpu(), time.perf_counter()
    processes = [subprocess.Popen(command) for command in commands]
    if any(process.wait() != 0 for process in processes):
        sys.exit(f"failed: {commands}")
    if then is not None:
        subprocess.run(then, check=True)
    return time.perf_counter() - start, children_cpu() - cpu


def same_bytes(a: Path, b: Path) -> bool:
    def files(root: Path) -> dict[str, bytes]:
        return {
            p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
        }

    return files(a) == files(b)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", default="320x180", help="prepare videos --size")
    parser.add_argument("--clips", type=int, default=100_000, help="clip -n")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--tmp", type=Path, default=None, help="scratch folder (default: system temp)")
    args = parser.parse_args()
    missing = [v for v in VIDEOS if not v.is_file()]
    if missing:
        sys.exit(f"{missing[0]}: not found; this benchmark needs ../shared/data")

    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    with tempfile.TemporaryDirectory(dir=args.tmp) as scratch:
        scratch = Path(scratch)
        inputs = scratch / "videos"
        inputs.mkdir()
        for copy in ("a", "b"):
            for video in VIDEOS:
                (inputs / f"{copy}_{video.name}").symlink_to(video)
        prepare = [*CLI, "prepare", "videos", str(inputs), "--size", args.size]
        subprocess.run([*prepare, "-o", str(scratch / "frames")], check=True)  # warm caches; clip input
        frames = scratch / "frames" / "train"
        clip = [*CLI, "clip", str(frames), "-n", str(args.clips), "--size", "32"]
        jobs = {
            "prepare videos": (prepare, "-o", ["prepare", "merge"]),
            "clip": (clip, "-o", ["clip", "--merge"]),
        }
        total_frames = sum(1 for _ in frames.rglob("*.png"))
        rows = []
        for name, (command, flag, merge) in jobs.items():
            times: dict[str, list[tuple[float, float]]] = {
                "1 run, --workers 4": [],
                "4 tasks, --shard K/4": [],
            }
            identical = True
            for repeat in range(args.repeats):
                whole, split = scratch / f"{name}-whole-{repeat}", scratch / f"{name}-split-{repeat}"
                times["1 run, --workers 4"].append(timed([[*command, flag, str(whole), "--workers", "4"]]))
                tasks = [
                    [*command, flag, str(split), "--workers", "1", "--shard", f"{k}/4"] for k in range(4)
                ]
                times["4 tasks, --shard K/4"].append(timed(tasks, [*CLI, *merge, str(split)]))
                identical = identical and same_bytes(whole, split)
                if repeat < args.repeats - 1:
                    shutil.rmtree(whole), shutil.rmtree(split)
            base_wall = statistics.median(w for w, _ in times["1 run, --workers 4"])
            base_cpu = statistics.median(c for _, c in times["1 run, --workers 4"])
            for label, measured in times.items():
                wall = statistics.median(w for w, _ in measured)
                cpu = statistics.median(c for _, c in measured)
                rows.append((name, label, wall, cpu, wall / base_wall, cpu / base_cpu, identical))

    print(
        f"input: {len(VIDEOS) * 2} videos ({total_frames} frames) -> {args.size}; "
        f"clip -n {args.clips} --size 32; cpus: {os.cpu_count()}; load average before: {load}; "
        f"median of {args.repeats}"
    )
    print("| job | how | wall s | CPU s | wall vs 1 run | CPU vs 1 run | same bytes |")
    print("|---|---|---:|---:|---:|---:|---|")
    for name, label, wall, cpu, wall_ratio, cpu_ratio, identical in rows:
        same = "yes" if identical else "NO"
        print(
            f"| {name} | {label} | {wall:.1f} | {cpu:.1f} | {wall_ratio:.2f}x | {cpu_ratio:.2f}x | {same} |"
        )


if __name__ == "__main__":
    main()
