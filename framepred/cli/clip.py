"""`framepred clip`: motion-filtered training clips (small crops of a few frames) into uint8 shards."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from framepred.cli.options import SHARD


def command(
    data: Path = typer.Argument(None, help="A frame tree, one of its splits, or a folder of frame folders."),
    out: Path = typer.Option(None, "--output", "-o", help="Output folder (shard-NNNNN.npy, manifest.json)."),
    count: int = typer.Option(None, "--count", "-n", help="Number of clips to cut (clips may repeat)."),
    size: int = typer.Option(32, "--size", help="Crop side in pixels."),
    frames: int = typer.Option(5, "--frames", help="Frames per clip."),
    threshold: float = typer.Option(
        100.0, "--threshold", help="Keep a crop whose summed squared frame differences on [-1,1] exceed this."
    ),
    trials: int = typer.Option(
        100, "--trials", help="Crop positions tried per clip (the last kept if none pass)."
    ),
    take_first: float = typer.Option(
        0.05, "--take-first", help="Probability of keeping the first crop unchecked."
    ),
    seed: int = typer.Option(0, "--seed", help="Random seed: same seed and inputs, identical shards."),
    workers: int = typer.Option(0, "--workers", "-j", help="Parallel processes (0: one per CPU core)."),
    shard_size: int = typer.Option(4096, "--shard-size", help="Clips per shard file."),
    shard: str = SHARD,
    merge: Path = typer.Option(
        None, "--merge", help="Write the manifest of OUT once every --shard task has finished (no DATA)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON on stdout."),
) -> None:
    """Cut motion-filtered training clips from frame sequences into uint8 shards (resumable)."""
    from framepred.cli.console import info, print_json, progress
    from framepred.data.clips import extract_clips, merge_clips
    from framepred.data.sharding import parse_shard
    from framepred.errors import UsageError

    if merge is not None:
        if data is not None or out is not None or count is not None or shard is not None:
            raise UsageError("--merge OUT takes no DATA, -o, -n or --shard: it only merges finished tasks")
        result = merge_clips(merge)
        if as_json:
            print_json(result)
        elif result["tasks"]:
            info(f"merged {result['tasks']} tasks: {result['count']} clips in {len(result['shards'])} shards")
        else:
            info(f"{merge}: no clip tasks to merge; its manifest is complete")
        return
    if data is None or out is None or count is None:
        raise UsageError("give DATA, -o OUT and -n COUNT (or --merge OUT after a sharded run)")
    task = parse_shard(shard)
    result = extract_clips(
        data, out, count,
        frames=frames, size=size, threshold=threshold, trials=trials, take_first=take_first, seed=seed,
        workers=workers or os.cpu_count() or 1, shard_size=shard_size, shard=task, progress=progress,
    )  # fmt: skip
    if as_json:
        print_json(result)
        return
    kept = result["resumed_shards"]
    note = f" ({kept} shards kept from an earlier run)" if kept else ""
    rate = f", {result['made'] / result['seconds']:.0f} clips/s" if result["made"] else ""
    if task is not None:
        info(f"task {task}: wrote {len(result['shards'])} of the shard files to {out}{note}{rate}")
        info(f"when every task has finished: framepred clip --merge {out}")
        return
    source, stats = result["source"], result["stats"]
    skipped = source["skipped_short"] + source["skipped_small"]
    info(f"wrote {result['count']} clips in {len(result['shards'])} shards to {out}{note}{rate}")
    info(
        f"from {source['sequences']} sequences ({skipped} skipped: {source['skipped_short']} shorter than "
        f"{result['frames']} frames, {source['skipped_small']} smaller than {result['size']} px); "
        f"{stats['passed_fraction']:.1%} above the threshold, {stats['mean_tries']:.2f} crops tried per clip"
    )
