"""Evaluation: score a model (and baselines) on a frame tree per horizon, or compare two image folders.

:func:`evaluate_tree` runs a Predictor recursively over the protocol's windows (see
:mod:`framepred.metrics.protocols`), in batches, on any device, with the metrics batched on the same
device; frames are decoded ahead in a thread, and each ground-truth batch is prepared once for the
model and all baselines (LPIPS runs it through AlexNet once). :func:`evaluate_folders` compares
same-named frames of a prediction folder and a ground-truth folder. Both return one JSON-ready dict:
``per_step``, ``cumulative``, ``mean``, ``count``, ``settings`` and ``warnings`` (plus ``baselines``
with the same summaries per baseline).
"""

from __future__ import annotations

import contextlib
import itertools
import math
import os
import re
from collections.abc import Callable, Iterable, Sequence
from contextlib import closing
from pathlib import Path
from typing import Any

import numpy as np
import torch

from framepred.data.tree import FrameTree
from framepred.errors import DataError, UsageError
from framepred.io.images import list_images
from framepred.io.paths import natural_key
from framepred.metrics.aggregate import StepAccumulator
from framepred.metrics.frames import FrameCache, batches_of_equal_size, stack_same_size
from framepred.metrics.protocols import Window, select_windows
from framepred.metrics.saved_images import STEP_PREFIX, WindowImageWriter
from framepred.metrics.suite import MetricSuite

Progress = Callable[[Iterable[Any], int], Iterable[Any]]


def _no_progress(iterable: Iterable[Any], total: int) -> Iterable[Any]:
    return iterable


def _to_tensor(frames: np.ndarray, device: torch.device) -> torch.Tensor:
    """``... x H x W x 3`` uint8 -> ``... x 3 x H x W`` floats in [0, 1] on ``device``."""
    tensor = torch.from_numpy(frames).to(device)
    return tensor.movedim(-1, -3).float().div_(255.0)


def _load_predictor(
    weights: str | os.PathLike | None,
    model: str | None,
    device: torch.device,
    seed: int,
    **runtime: Any,
) -> Any:
    from framepred.inference import Predictor

    if (weights is None) == (model is None):
        raise UsageError("give exactly one of --weights CKPT or --model NAME (e.g. --model copy-last)")
    if weights is not None:
        return Predictor.from_checkpoint(weights, device=device, seed=seed, **runtime)
    return Predictor.from_name(model, device=device, runtime=runtime, seed=seed)


def _baseline_predictor(name: str, main: Any, device: torch.device, seed: int) -> Any:
    """A baseline the model makes of its own weights (``model.baselines()``, e.g. fusion's
    no-motion), or else a registered one (copy-last, linear); a registered one that can read fewer
    frames (copy-last) is given the model's count."""
    from framepred.inference import Predictor

    own = getattr(main.model, "baselines", None)
    models = own() if callable(own) else {}
    if name in models:
        return Predictor(models[name], main.colour_order, device, seed=seed)
    predictor = _load_predictor(None, name, device, seed)
    config = getattr(predictor.model, "config", None)
    if predictor.context_frames > main.context_frames and hasattr(config, "context_frames"):
        with contextlib.suppress(UsageError):  # it cannot: refused below, naming the baseline
            predictor = Predictor.from_name(
                name, device=device, context_frames=main.context_frames, seed=seed
            )
    return predictor


def _model_label(weights: str | os.PathLike | None, model: str | None) -> str:
    return model if model is not None else Path(weights).name


def evaluate_tree(
    data: str | os.PathLike,
    *,
    weights: str | os.PathLike | None = None,
    model: str | None = None,
    split: str | None = "test",
    protocol: str = "dmvfn",
    steps: int | None = None,
    metrics: str | Sequence[str] | None = None,
    device: str = "auto",
    limit: int | None = None,
    batch_size: int = 4,
    baselines: Sequence[str] = (),
    lpips_weights: str | os.PathLike | None = None,
    bgr_lpips: bool = False,
    seed: int = 0,
    save_images: str | os.PathLike | None = None,
    save_truth: str | os.PathLike | None = None,
    moving_mask: float | None = None,
    precision: str = "fp32",
    compile: bool = False,
    cuda_graphs: bool = False,
    progress: Progress = _no_progress,
) -> dict[str, Any]:
    """Score ``weights`` (a checkpoint) or ``model`` (a registry name) on a frame tree, per step.
    ``precision``, ``compile`` and ``cuda_graphs`` choose how the model runs (baselines run in fp32);
    ``save_images``/``save_truth``: write the model's predictions / the scored frames there
    (``framepred.metrics.saved_images``). ``moving_mask``: score PSNR, SSIM and sharpness on moving
    pixels only (a threshold, see ``metrics.sharpness``), each target against the true frame before it."""
    from framepred.engine.device import resolve_device
    from framepred.inference.pipeline import read_ahead
    from framepred.inference.runtime import check_runtime

    if batch_size < 1:
        raise UsageError(f"--batch-size must be at least 1, got {batch_size}")
    torch_device = resolve_device(device)
    check_runtime(torch_device, precision, compile, cuda_graphs)
    torch.manual_seed(seed)  # for models that draw from torch's global generator
    tree = FrameTree(data)
    sequences = tree.sequences(split)
    if not sequences:
        raise DataError(f"{tree.root}: split {split!r} holds no frames; check --data and --split")

    # One draw stream per model for the whole run (DMVFN's routing): fresh gates for every window
    # and step, the same ones for the same seed.
    runtime = {"precision": precision, "compile": compile, "cuda_graphs": cuda_graphs}
    main_predictor = _load_predictor(weights, model, torch_device, seed, **runtime)
    runs = {_model_label(weights, model): main_predictor}
    context_frames = main_predictor.context_frames
    for name in baselines:
        if name not in runs:
            runs[name] = _baseline_predictor(name, main_predictor, torch_device, seed)
    for name, predictor in runs.items():
        if predictor.context_frames > context_frames:
            raise UsageError(
                f"baseline {name!r} needs {predictor.context_frames} context frames, the model only "
                f"{context_frames}; drop --baseline {name}"
            )

    windows, description = select_windows(protocol, sequences, context_frames, steps, tree.manifest, limit)
    if not windows:
        raise DataError(
            f"{tree.root}: no sequence of split {split!r} is long enough for the {protocol} protocol "
            f"({description['steps']} steps); use shorter --steps or --protocol next"
        )
    step_count = description["steps"]
    suite = MetricSuite(metrics, torch_device, lpips_weights, bgr_lpips, moving_mask=moving_mask)
    writers = [
        (WindowImageWriter(folder, windows), index)
        for folder, index in ((save_images, 0), (save_truth, 1))
        if folder is not None
    ]
    accumulators = {name: StepAccumulator(suite.names, step_count) for name in runs}

    window_length = context_frames + step_count
    cache = FrameCache(capacity=batch_size * window_length * 2)

    def load(window: Window) -> np.ndarray:
        paths = [window.sequence.frames[i] for i in (*window.context, *window.targets)]
        return stack_same_size(paths, cache)

    total = math.ceil(len(windows) / batch_size)
    with closing(read_ahead(batches_of_equal_size(windows, batch_size, load), depth=2)) as batches:
        for group, frames in progress(batches, total):
            tensor = _to_tensor(frames, torch_device)  # B x (T + S) x 3 x H x W
            context, targets = tensor[:, :context_frames], tensor[:, context_frames:]
            predictions = {
                name: predictor.rollout_batch(
                    context[:, context_frames - predictor.context_frames :], step_count
                )
                for name, predictor in runs.items()
            }
            for step in range(step_count):
                target = suite.target(targets[:, step])  # shared by the model and every baseline
                previous = context[:, -1] if step == 0 else targets[:, step - 1]  # for a moving mask
                for name in runs:
                    values = suite.compute(predictions[name][:, step], target, previous)
                    accumulators[name].add(step + 1, values)
            for name in runs:
                accumulators[name].windows += len(group)
            main_predictions = predictions[next(iter(runs))]
            for writer, index in writers:
                writer.write(group, (main_predictions, targets)[index])

    main_name = next(iter(runs))
    main = runs[main_name]
    settings = {
        "mode": "tree",
        "data": str(tree.root),
        "split": split,
        "model": main_name,
        "weights": None if weights is None else str(weights),
        "model_colour_order": main.colour_order,
        "device": str(torch_device),
        "batch_size": batch_size,
        "seed": seed,
        "saved_images": None if save_images is None else str(save_images),
        "saved_truth": None if save_truth is None else str(save_truth),
        "precision": precision,
        **description,
        "predictions": "float, clipped to [0, 1], not re-quantised to 8 bits",
        "cumulative": "running mean of the per-step values over steps 1..k (DMVFN's t+k)",
        "metric_settings": suite.settings(),
    }
    result = {"model": main_name, **accumulators[main_name].summary(), "settings": settings}
    result["baselines"] = {name: accumulators[name].summary() for name in runs if name != main_name}
    result["warnings"] = list(suite.notes.values())
    return result


def images_by_key(folder: str | os.PathLike) -> dict[str, Path]:
    """Every image under ``folder``, nested folders included, keyed by its path relative to
    ``folder`` without the suffix (``seq/000000/t+1``); hidden files and folders are skipped."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"{folder}: no such folder of images; check the path")
    found: dict[str, Path] = {}
    for current, subfolders, _ in os.walk(folder):
        subfolders[:] = sorted(d for d in subfolders if not d.startswith("."))
        for path in list_images(current):
            found[path.relative_to(folder).with_suffix("").as_posix()] = path
    return dict(sorted(found.items(), key=lambda item: natural_key(item[0])))


def match_frames(
    pred_dir: str | os.PathLike, gt_dir: str | os.PathLike
) -> tuple[list[tuple[Path, Path]], list[str]]:
    """Pairs of frames with the same relative path (suffix aside; nested folders included, as
    ``evaluate --save-images`` writes them) and warnings for unmatched predictions.

    A ground-truth frame without a prediction is an error: scoring only the rest would quietly change
    the numbers.
    """
    pred_files = images_by_key(pred_dir)
    gt_files = images_by_key(gt_dir)
    if not gt_files:
        raise DataError(f"{gt_dir}: holds no images; give the folder of ground-truth frames as --gt")
    missing = [key for key in gt_files if key not in pred_files]
    if missing:
        more = f" (and {len(missing) - 3} more)" if len(missing) > 3 else ""
        raise DataError(
            f"{pred_dir}: has no prediction for {len(missing)} of {len(gt_files)} ground-truth frames: "
            f"{', '.join(gt_files[k].relative_to(gt_dir).as_posix() for k in missing[:3])}{more}; "
            f"predict them (same names) or remove them from {gt_dir}"
        )
    extra = [key for key in pred_files if key not in gt_files]
    warnings = []
    if extra:
        warnings.append(f"{len(extra)} prediction(s) in {pred_dir} have no ground truth and were ignored")
    return [(pred_files[key], path) for key, path in gt_files.items()], warnings


def _step_of(path: Path) -> int | None:
    """k for a frame named ``t+k`` (as ``--save-images`` writes), else None."""
    match = re.fullmatch(rf"{re.escape(STEP_PREFIX)}(\d+)", path.stem)
    return int(match.group(1)) if match and int(match.group(1)) >= 1 else None


def evaluate_folders(
    pred: str | os.PathLike,
    gt: str | os.PathLike,
    *,
    metrics: str | Sequence[str] | None = None,
    device: str = "auto",
    batch_size: int = 4,
    lpips_weights: str | os.PathLike | None = None,
    bgr_lpips: bool = False,
    progress: Progress = _no_progress,
) -> dict[str, Any]:
    """Compare each frame in ``pred`` with the same-named frame in ``gt``; one row (no horizon)."""
    from framepred.engine.device import resolve_device

    if batch_size < 1:
        raise UsageError(f"--batch-size must be at least 1, got {batch_size}")
    torch_device = resolve_device(device)
    pairs, warnings = match_frames(pred, gt)
    # Frames named t+1, t+2, ... (the --save-images layout) are scored per step.
    steps = [_step_of(truth) for _, truth in pairs]
    per_step = all(step is not None for step in steps)
    steps = steps if per_step else [1] * len(pairs)
    step_of = {truth: step for (_, truth), step in zip(pairs, steps, strict=True)}
    suite = MetricSuite(metrics, torch_device, lpips_weights, bgr_lpips)
    accumulator = StepAccumulator(suite.names, max(steps))
    cache = FrameCache(capacity=2)

    def load(pair: tuple[Path, Path]) -> np.ndarray:
        return stack_same_size(list(pair), cache)

    from framepred.inference.pipeline import read_ahead

    total = math.ceil(len(pairs) / batch_size)
    by_step = sorted(pairs, key=lambda pair: step_of[pair[1]])  # batches of one step each
    batches = (
        (group, frames)
        for _, same_step in itertools.groupby(by_step, key=lambda pair: step_of[pair[1]])
        for group, frames in batches_of_equal_size(list(same_step), batch_size, load)
    )
    with closing(read_ahead(batches, depth=2)) as ahead:
        for group, frames in progress(ahead, total):
            tensor = _to_tensor(frames, torch_device)  # B x 2 x 3 x H x W: prediction, ground truth
            accumulator.add(step_of[group[0][1]], suite.compute(tensor[:, 0], tensor[:, 1]))
    # count: frame pairs, or windows (frames of step 1) when scored per step
    accumulator.windows = steps.count(1) if per_step else len(pairs)

    settings = {
        "mode": "folders",
        "pred": str(pred),
        "gt": str(gt),
        "device": str(torch_device),
        "batch_size": batch_size,
        "predictions": "as stored in the files (8-bit), clipped to [0, 1]",
        "steps": "per step, from the file names t+1, t+2, ..." if per_step else "one row (no horizon)",
        "metric_settings": suite.settings(),
    }
    result = {"model": Path(pred).name, **accumulator.summary(), "settings": settings, "baselines": {}}
    result["warnings"] = warnings + list(suite.notes.values())
    return result


def run_evaluation(
    *,
    pred: str | os.PathLike | None = None,
    gt: str | os.PathLike | None = None,
    data: str | os.PathLike | None = None,
    weights: str | os.PathLike | None = None,
    model: str | None = None,
    baselines: Sequence[str] = (),
    csv_path: str | os.PathLike | None = None,
    plot_path: str | os.PathLike | None = None,
    **options: Any,
) -> dict[str, Any]:
    """What ``framepred evaluate`` does: pick the mode from the options, evaluate, write CSV and plot.

    Folder mode takes ``pred`` and ``gt``; tree mode takes ``data`` and one of ``weights`` / ``model``.
    Tree-only options (split, protocol, steps, limit, seed) are rejected in folder mode.
    """
    from framepred.metrics.report import write_csv, write_plot

    if (pred is None) != (gt is None):
        raise UsageError("folder mode needs both --pred DIR and --gt DIR")
    if pred is not None:
        tree_only = {"data": data, "weights": weights, "model": model, "baseline": baselines or None}
        given = [f"--{k}" for k, v in tree_only.items() if v is not None]
        tree_only_options = ("split", "protocol", "steps", "limit", "seed", "precision", "moving_mask")
        tree_only_options += ("save_images", "save_truth")
        given += [f"--{k.replace('_', '-')}" for k in tree_only_options if options.get(k) is not None]
        given += [f"--{k.replace('_', '-')}" for k in ("compile", "cuda_graphs") if options.get(k)]
        if given:
            raise UsageError(f"{', '.join(given)} cannot be combined with --pred/--gt (folder mode)")
        folder_options = {
            k: v for k, v in options.items() if v is not None and k not in ("compile", "cuda_graphs")
        }
        result = evaluate_folders(pred, gt, **folder_options)
    else:
        if data is None:
            raise UsageError("give --data TREE with --weights or --model, or --pred DIR --gt DIR")
        tree_options = {k: v for k, v in options.items() if v is not None}
        result = evaluate_tree(data, weights=weights, model=model, baselines=baselines, **tree_options)
    if csv_path is not None:
        write_csv(result, csv_path)
    if plot_path is not None:
        write_plot(result, plot_path)
    return result
