"""What a run writes besides checkpoints: metrics.csv, TensorBoard events, results.png, samples.

Only the main process logs. ``metrics.csv`` has one ``train`` row per optimiser step and one ``val``
row per validation; on resume the rows after the checkpoint's step (written before the kill) are
dropped, so the file reads as if the run had never stopped.
"""

from __future__ import annotations

import csv
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from framepred.io.atomic import atomic_path

VAL_COLUMNS = ["val_l1", "val_psnr", "copy_last_l1", "copy_last_psnr"]


def truncate_metrics(path: Path, last_step: int) -> None:
    """Keep the header and the complete rows whose step is at most ``last_step``."""
    if not path.is_file():
        return
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    if not lines:
        return
    kept = [lines[0]]
    width = len(next(csv.reader([lines[0]])))
    for line in lines[1:]:
        row = next(csv.reader([line]), [])
        # A kill can leave a half-written last line: no newline or too few fields.
        if line.endswith("\n") and len(row) == width and int(row[1]) <= last_step:
            kept.append(line)
    with atomic_path(path) as temp:
        temp.write_text("".join(kept), encoding="utf-8")


def read_metrics(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


class RunLogger:
    """``train_columns``: the names of the values one training row holds (loss, learning rates, terms)."""

    def __init__(
        self, run_dir: Path, train_columns: list[str], enabled: bool, resume_step: int | None
    ) -> None:
        self.run_dir = Path(run_dir)
        self.enabled = enabled
        self.columns = ["kind", "step", "epoch", *train_columns, *VAL_COLUMNS, "elapsed_s"]
        self.start = time.monotonic()
        self.writer = None
        if not enabled:
            return
        metrics = self.run_dir / "metrics.csv"
        if resume_step is not None:
            truncate_metrics(metrics, resume_step)
        new_file = not metrics.is_file() or metrics.stat().st_size == 0
        self._csv = open(metrics, "a", newline="", encoding="utf-8")  # noqa: SIM115  (open for the run)
        if new_file:
            self._csv.write(",".join(self.columns) + "\n")
            self._csv.flush()
        from torch.utils.tensorboard import SummaryWriter

        purge = resume_step + 1 if resume_step is not None else None
        self.writer = SummaryWriter(str(self.run_dir / "events"), purge_step=purge)

    def _row(self, values: dict[str, Any]) -> None:
        values = {**values, "elapsed_s": f"{time.monotonic() - self.start:.2f}"}
        cells = []
        for column in self.columns:
            value = values.get(column, "")
            cells.append(repr(value) if isinstance(value, float) else str(value))
        self._csv.write(",".join(cells) + "\n")
        self._csv.flush()

    def train_step(self, step: int, epoch: int, values: dict[str, float]) -> None:
        """One training row; columns without a value this round (a phase not due) stay empty."""
        if not self.enabled:
            return
        self._row({"kind": "train", "step": step, "epoch": epoch, **values})
        for name, value in values.items():
            self.writer.add_scalar(f"train/{name}", value, step)

    def validation(self, step: int, epoch: int, metrics: dict[str, float]) -> None:
        if not self.enabled:
            return
        self._row({"kind": "val", "step": step, "epoch": epoch, **metrics})
        for name, value in metrics.items():
            self.writer.add_scalar(f"val/{name}", value, step)
        self.writer.flush()
        self.plot()

    def samples(self, step: int, rows: list[np.ndarray]) -> None:
        """Save a grid image: one row per sample (context | prediction | truth | |error| x 4)."""
        if not self.enabled or not rows:
            return
        from framepred.io.images import write_image

        folder = self.run_dir / "samples"
        folder.mkdir(exist_ok=True)
        write_image(folder / f"step_{step:07d}.png", np.concatenate(rows, axis=0))

    def plot(self) -> None:
        """results.png: training loss and validation PSNR (model and copy-last) against step."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        rows = read_metrics(self.run_dir / "metrics.csv")
        train = [r for r in rows if r["kind"] == "train" and r["loss"]]
        val = [r for r in rows if r["kind"] == "val"]
        figure, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6))
        if train:
            steps = [int(r["step"]) for r in train]
            losses = [float(r["loss"]) for r in train]
            left.plot(steps, losses, lw=0.6, alpha=0.5, label="loss")
            window = max(1, len(losses) // 50)
            smooth = np.convolve(losses, np.ones(window) / window, mode="valid")
            left.plot(steps[window - 1 :], smooth, lw=1.5, label=f"mean of {window}")
            epochs = _epoch_means(train)
            if len(epochs) > 1:
                left.plot(*zip(*epochs, strict=True), marker="o", lw=1.5, label="mean per epoch")
            left.set_yscale("log")
        left.set(xlabel="step", title="training loss")
        left.legend()
        if val:
            steps = [int(r["step"]) for r in val]
            right.plot(steps, [float(r["val_psnr"]) for r in val], marker="o", label="model")
            right.plot(steps, [float(r["copy_last_psnr"]) for r in val], ls="--", label="copy-last")
            right.legend()
        right.set(xlabel="step", ylabel="PSNR (dB)", title="validation")
        figure.tight_layout()
        with atomic_path(self.run_dir / "results.png") as temp:
            figure.savefig(temp, dpi=100)
        plt.close(figure)

    def close(self) -> None:
        if self.enabled:
            self._csv.close()
            self.writer.close()


def _epoch_means(train: list[dict[str, str]]) -> list[tuple[int, float]]:
    """(last step, mean loss) of every whole epoch. Batches differ far more in difficulty than the
    model changes from one step to the next, so the mean over the same clips, epoch after epoch, is
    where a slow trend shows; an epoch cut short (by a time limit) saw other clips and is left out."""
    by_epoch: dict[int, list[tuple[int, float]]] = {}
    for row in train:
        by_epoch.setdefault(int(row["epoch"]), []).append((int(row["step"]), float(row["loss"])))
    whole = max(len(points) for points in by_epoch.values())
    return [
        (points[-1][0], sum(loss for _, loss in points) / whole)
        for _, points in sorted(by_epoch.items())
        if len(points) == whole
    ]


def log_line(message: str, enabled: bool = True) -> None:
    """One plain line on stderr (what batch-job logs want)."""
    if enabled:
        print(message, file=sys.stderr, flush=True)
