"""`framepred evaluate`: PSNR, SSIM, MS-SSIM, LPIPS and sharpness per horizon, on a tree or two folders."""

from __future__ import annotations

from pathlib import Path

import typer

from framepred.cli.options import COMPILE, CUDA_GRAPHS, DEVICE


def command(
    pred: Path = typer.Option(None, "--pred", help="Folder of predicted frames (folder mode, with --gt)."),
    gt: Path = typer.Option(
        None, "--gt", help="Folder of ground-truth frames; same relative names as --pred."
    ),
    weights: str = typer.Option(
        None, "--weights", help="Checkpoint to evaluate: a file, a name (framepred weights list) or a URL."
    ),
    model: str = typer.Option(None, "--model", help="Registered model, no weights: copy-last, linear."),
    data: Path = typer.Option(None, "--data", help="Frame tree to evaluate on (ROOT/<split>/<seq>/)."),
    split: str = typer.Option(None, "--split", help="Split of the tree (default: test)."),
    protocol: str = typer.Option(None, "--protocol", help="dmvfn (frames 2,3 -> 4..8; default) or next."),
    steps: int = typer.Option(None, "--steps", help="Predicted steps per window (default: dmvfn 5, next 1)."),
    metrics: str = typer.Option(
        None,
        "--metrics",
        help="Comma-separated metrics (psnr, ssim, msssim, lpips, sharpness); each must run. Default: "
        "psnr,ssim,msssim,lpips, leaving out with a warning those that cannot (no LPIPS backbone file, "
        "frames too small).",
    ),
    device: str = DEVICE,
    limit: int = typer.Option(None, "--limit", help="Score only the first N windows."),
    batch_size: int = typer.Option(4, "--batch-size", help="Windows (or frame pairs) per batch."),
    baseline: list[str] = typer.Option(None, "--baseline", help="Also score a baseline (copy-last, linear)."),
    lpips_weights: Path = typer.Option(
        None, "--lpips-weights", help="AlexNet backbone file for LPIPS (default: torch hub cache)."
    ),
    bgr_lpips: bool = typer.Option(False, "--bgr-lpips", help="Feed LPIPS BGR, as DMVFN's tables did."),
    seed: int = typer.Option(
        None, "--seed", help="Where random draws start (DMVFN's sampled routing; default: 0)."
    ),
    save_images: Path = typer.Option(
        None, "--save-images", help="Write every prediction as DIR/<sequence>/<window>/t+k.png."
    ),
    save_truth: Path = typer.Option(
        None, "--save-truth", help="Write the frames they are scored against, same layout."
    ),
    moving_mask: float = typer.Option(
        None, "--moving-mask", help="Score PSNR, SSIM, sharpness on moving pixels: change above this (0.05)."
    ),
    precision: str = typer.Option(None, "--precision", help="Model precision: fp32 (default) or bf16."),
    compile: bool = COMPILE,
    cuda_graphs: bool = CUDA_GRAPHS,
    csv_path: Path = typer.Option(None, "--csv", help="Write the per-step table as CSV."),
    plot_path: Path = typer.Option(None, "--plot", help="Plot each metric against the horizon (PNG)."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as one JSON object on stdout."),
) -> None:
    """Score predictions per horizon (t+1 ... t+N) against ground truth, or two folders of frames."""
    from framepred.cli.console import console, print_json, progress, settings, warn
    from framepred.inference.allocator import tune_allocator
    from framepred.metrics.evaluate import run_evaluation
    from framepred.metrics.report import build_tables

    tune_allocator()  # keep freed memory: no page faults per frame (FRAMEPRED_MALLOC_TUNE=0: off)

    result = run_evaluation(
        pred=pred, gt=gt, data=data, weights=weights, model=model, baselines=baseline or (),
        csv_path=csv_path, plot_path=plot_path, split=split, protocol=protocol, steps=steps,
        metrics=metrics, device=device, limit=limit, batch_size=batch_size, lpips_weights=lpips_weights,
        bgr_lpips=bgr_lpips, seed=seed, save_images=save_images, save_truth=save_truth,
        moving_mask=moving_mask, precision=precision, compile=compile, cuda_graphs=cuda_graphs,
        progress=lambda items, total: progress(items, total=total, description="evaluating"),
    )  # fmt: skip
    for message in result["warnings"]:
        warn(message)
    if settings.verbosity >= 0:
        for table in build_tables(result):
            console.print(table)
        lpips = result["settings"]["metric_settings"].get("lpips")
        if lpips is not None:
            console.print(f"LPIPS: AlexNet v0.1, {lpips['colour_order']} input, {lpips['backbone']}")
    if as_json:
        print_json(result)
