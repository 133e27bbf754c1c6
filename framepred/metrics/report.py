"""Presenting an evaluation result: the per-step table, the CSV file and the plot against the horizon.

Every function takes the dict returned by :mod:`framepred.metrics.evaluate`; the model's rows come
first, then one block per baseline.
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path
from typing import Any

from framepred.errors import DataError
from framepred.io.atomic import atomic_path, write_text_atomic

LABELS = {"psnr": "PSNR", "ssim": "SSIM", "msssim": "MS-SSIM", "lpips": "LPIPS", "sharpness": "Sharp. diff"}
DIGITS = {"psnr": 2, "ssim": 4, "msssim": 4, "lpips": 4, "sharpness": 2}


def metric_names(result: dict[str, Any]) -> list[str]:
    return [n for n in LABELS if n in result["mean"]]


def runs(result: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(label, summary) for the model and each baseline."""
    return [(result["model"], result), *result.get("baselines", {}).items()]


def _format(name: str, value: float | None) -> str:
    return "-" if value is None else f"{value:.{DIGITS[name]}f}"


def build_tables(result: dict[str, Any]) -> list[Any]:
    """Rich tables: the per-step values and, with several steps, the cumulative means (DMVFN's t+k).

    Metrics that produced no value at all (left out) get no column.
    """
    from rich.table import Table

    names = [n for n in metric_names(result) if result["mean"][n] is not None]
    several = len(result["per_step"]) > 1
    # Folder mode scores t+k files per step too (the --save-images layout); count is then windows.
    unit = "windows" if result["settings"].get("mode") == "tree" or several else "frame pairs"
    kinds = [("per_step", f"per step ({result['count']} {unit})")]
    if several:
        kinds.append(("cumulative", "cumulative: mean over steps 1..k (DMVFN's t+k)"))
    tables = []
    for key, title in kinds:
        table = Table(title=title, title_justify="left")
        table.add_column("model")
        table.add_column("step")
        for name in names:
            table.add_column(LABELS[name], justify="right")
        for label, summary in runs(result):
            for row in summary[key]:
                step = f"t+{row['step']}" if unit == "windows" else "all"
                table.add_row(label, step, *(_format(n, row[n]) for n in names))
            if several and key == "per_step":
                table.add_row(label, "mean", *(_format(n, summary["mean"][n]) for n in names), style="bold")
            table.rows[-1].end_section = True
        tables.append(table)
    return tables


def write_csv(result: dict[str, Any], path: str | os.PathLike) -> Path:
    """One row per model and step: the step values and the cumulative means (``<metric>_cumulative``)."""
    names = metric_names(result)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["model", "step", *names, *(f"{n}_cumulative" for n in names), "count"])
    for label, summary in runs(result):
        for row, cumulative in zip(summary["per_step"], summary["cumulative"], strict=True):
            values = [_csv_value(row[n]) for n in names] + [_csv_value(cumulative[n]) for n in names]
            writer.writerow([label, row["step"], *values, summary["count"]])
    path = Path(path)
    _check_parent(path)
    write_text_atomic(path, buffer.getvalue())
    return path


def _csv_value(value: float | None) -> str:
    return "" if value is None else repr(value)


def _check_parent(path: Path) -> None:
    if not path.parent.is_dir():
        raise DataError(f"{path}: folder {path.parent} does not exist; create it or choose another path")


def write_plot(result: dict[str, Any], path: str | os.PathLike) -> Path:
    """Each metric against the horizon (step values), model and baselines side by side, as an image."""
    import matplotlib

    matplotlib.use("Agg")  # no display needed; set before pyplot is imported
    import matplotlib.pyplot as plt

    names = [n for n in metric_names(result) if result["mean"][n] is not None]
    if not names:
        raise DataError("nothing to plot: no metric produced a value")
    path = Path(path)
    _check_parent(path)
    figure, axes = plt.subplots(1, len(names), figsize=(4 * len(names), 3.2), squeeze=False)
    for axis, name in zip(axes[0], names, strict=True):
        for label, summary in runs(result):
            steps = [row["step"] for row in summary["per_step"]]
            values = [row[name] for row in summary["per_step"]]
            axis.plot(steps, values, marker="o", label=label)
        axis.set_title(LABELS[name] + (" (lower is better)" if name == "lpips" else ""))
        axis.set_xlabel("step (t+k)")
        axis.set_xticks(steps)
        axis.grid(alpha=0.3)
    axes[0][0].legend()
    figure.tight_layout()
    with atomic_path(path) as temp:
        figure.savefig(temp, dpi=120, format=path.suffix.lstrip(".") or "png")
    plt.close(figure)
    return path
