"""`framepred prepare`: make the canonical frame tree from videos, frame folders, or synthetic data."""

from __future__ import annotations

from pathlib import Path

import typer

from framepred.cli.console import info, print_json
from framepred.cli.errors import guarded
from framepred.cli.options import SHARD

prepare_app = typer.Typer(
    help="Turn videos, frame folders or public data sets into the canonical frame tree.",
    no_args_is_help=True,
)

OUT = typer.Option(..., "--output", "-o", help="Output frame tree folder.")
WORKERS = typer.Option(1, "--workers", "-j", min=1, help="Parallel processes.")
JSON = typer.Option(False, "--json", help="Print the summary as JSON on stdout.")


def report(result, as_json: bool) -> None:
    """Notes and one summary line on stderr, or the whole result as JSON on stdout."""
    if as_json:
        print_json(result.as_dict())
        return
    for note in result.notes:
        info(note)
    task = f"task {result.shard}: " if result.shard else ""
    if result.nothing_to_do:
        count = result.share if result.shard else result.sequences
        info(f"{task}{result.out}: all {count} sequences already prepared; nothing to do")
    else:
        already = f" ({result.skipped} already there)" if result.skipped else ""
        rate = f", {result.frames_per_second:.1f} frames/s" if result.frames else ""
        where = f"; manifest {result.manifest}" if result.manifest else ""
        what = f"{result.written} sequences, {result.frames} frames"
        info(f"{task}wrote {what} to {result.out}{already}{rate}{where}")
    if result.shard:
        info(f"when every task has finished: framepred prepare merge {result.out}")


@prepare_app.command("videos")
@guarded
def videos(
    inputs: list[Path] = typer.Argument(..., help="Video files, or folders of them."),
    out: Path = OUT,
    fps: float = typer.Option(None, "--fps", help="Resample to this frame rate (default: keep all frames)."),
    size: str = typer.Option(None, "--size", help="Resize frames to WIDTHxHEIGHT, e.g. 832x256."),
    split: str = typer.Option("train", "--split", help="Split the sequences go to."),
    workers: int = WORKERS,
    shard: str = SHARD,
    as_json: bool = JSON,
) -> None:
    """Each video becomes one sequence of the frame tree."""
    from framepred.data.prepare.videos import prepare_videos
    from framepred.data.resize import parse_size
    from framepred.data.sharding import parse_shard

    task = parse_shard(shard)
    result = prepare_videos(
        inputs, out, fps=fps, size=parse_size(size), split=split, workers=workers, shard=task
    )
    report(result, as_json)


@prepare_app.command("frames")
@guarded
def frames(
    source: Path = typer.Argument(..., help="A folder of frame folders (or an existing frame tree)."),
    out: Path = OUT,
    size: str = typer.Option(None, "--size", help="Resize frames to WIDTHxHEIGHT."),
    split: str = typer.Option("train", "--split", help="Split for a plain folder of frame folders."),
    workers: int = WORKERS,
    shard: str = SHARD,
    as_json: bool = JSON,
) -> None:
    """Each frame folder (frames in natural order: 2 before 10) becomes one sequence."""
    from framepred.data.prepare.frames import prepare_frames
    from framepred.data.resize import parse_size
    from framepred.data.sharding import parse_shard

    task = parse_shard(shard)
    report(
        prepare_frames(source, out, size=parse_size(size), split=split, workers=workers, shard=task), as_json
    )


@prepare_app.command("synthetic")
@guarded
def synthetic(
    out: Path = OUT,
    train: int = typer.Option(48, "--train", min=0, help="Training sequences."),
    test: int = typer.Option(12, "--test", min=0, help="Test sequences."),
    frames: int = typer.Option(16, "--frames", min=3, help="Frames per sequence."),
    size: str = typer.Option("128x128", "--size", help="Frame size WIDTHxHEIGHT."),
    seed: int = typer.Option(0, "--seed", help="Same seed, same data."),
    workers: int = WORKERS,
    shard: str = SHARD,
    as_json: bool = JSON,
) -> None:
    """The built-in data set: textured objects moving and occluding over a panning, zooming background."""
    from framepred.data.resize import parse_size
    from framepred.data.sharding import parse_shard
    from framepred.data.synthetic import SyntheticConfig, prepare_synthetic

    task = parse_shard(shard)
    width, height = parse_size(size)
    config = SyntheticConfig(train=train, test=test, frames=frames, width=width, height=height, seed=seed)
    report(prepare_synthetic(out, config, workers=workers, shard=task), as_json)


@prepare_app.command("merge")
@guarded
def merge(
    out: Path = typer.Argument(..., help="The frame tree the tasks of `prepare ... --shard K/N` wrote to."),
    as_json: bool = JSON,
) -> None:
    """Check that every task of a sharded prepare (or scrape) finished, then write the one manifest."""
    from framepred.data.shard_records import merge_tree

    result = merge_tree(out)
    if as_json:
        print_json(result.as_dict())
        return
    if not result.runs:
        info(f"{out}: no sharded run to merge; {result.manifest} is up to date")
        return
    for run in result.runs:
        info(
            f"merged {run.tasks} tasks of `{run.command}` ({run.sequences} sequences) into {result.manifest}"
        )


@prepare_app.command("fusion")
@guarded
def fusion(
    tree: Path = typer.Argument(..., help="The frame tree to make fusion images of."),
    out: Path = OUT,
    canny_low: float = typer.Option(100.0, "--canny-low", help="Canny's lower hysteresis threshold."),
    canny_high: float = typer.Option(200.0, "--canny-high", help="Canny's upper hysteresis threshold."),
    edge_blur: float = typer.Option(
        0.0, "--edge-blur", help="Gaussian sigma before the edges (Canny or gradient; 0: none)."
    ),
    edges: str = typer.Option(
        "canny", "--edges", help="canny (binary, the paper's) or gradient (soft Sobel magnitude, ours)."
    ),
    edge_soften: float = typer.Option(
        0.0, "--edge-soften", help="Gaussian sigma applied to the edge map after detection (ours; 0: off)."
    ),
    edge_weight: float = typer.Option(1.0, "--edge-weight", help="Weight of the edge map in the sum."),
    seg_weight: float = typer.Option(0.3, "--seg-weight", help="Weight of the segmentation (notebook: 0.3)."),
    seg_dir: Path = typer.Option(
        None, "--seg-dir", help="Label maps of any segmentation model: <split>/<seq>/<frame name>.png."
    ),
    segmentation: str = typer.Option(
        None, "--segmentation", help="slic (stand-in superpixels; default), none (edges only), folder."
    ),
    slic_segments: int = typer.Option(200, "--slic-segments", help="SLIC superpixels per frame."),
    slic_compactness: float = typer.Option(10.0, "--slic-compactness", help="SLIC compactness."),
    workers: int = WORKERS,
    as_json: bool = JSON,
) -> None:
    """Fusion images (edges + segmentation, Jing et al. 2021) of every frame, for `train fusion`."""
    from framepred.data.fusion import FusionOptions
    from framepred.data.prepare.fusion import prepare_fusion

    mode = segmentation or ("folder" if seg_dir is not None else "slic")
    options = FusionOptions(
        canny_low=canny_low, canny_high=canny_high, edge_blur=edge_blur, edges=edges,
        edge_soften=edge_soften, edge_weight=edge_weight, seg_weight=seg_weight,
        segmentation=mode, slic_segments=slic_segments, slic_compactness=slic_compactness,
    )  # fmt: skip
    summary = prepare_fusion(tree, out, options, seg_dir=seg_dir, workers=workers)
    if as_json:
        print_json({"out": str(out), "written": summary.written, "skipped": summary.skipped,
                    "frames": summary.frames, "seconds": summary.seconds})  # fmt: skip
        return
    already = f" ({summary.skipped} already there)" if summary.skipped else ""
    rate = f", {summary.frames_per_second:.1f} frames/s" if summary.frames else ""
    info(f"wrote {summary.written} sequences, {summary.frames} fusion images to {out}{already}{rate}")


# The public data sets (cityscapes, kitti, ucf101, davis, vimeo) register themselves on prepare_app.
from framepred.cli import prepare_datasets  # noqa: E402, F401
