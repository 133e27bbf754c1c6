"""Per-step sums of per-frame metric values, and the three summaries a report shows.

* ``per_step``: for step k (t+k), the mean over all windows of the metric on the k-th prediction.
* ``cumulative``: for step k, the mean of the per-step values of steps 1..k. This is what DMVFN's
  paper reports as "t+k" (its "t+5" row averages t+1..t+5).
* ``mean``: the mean over every scored frame.
"""

from __future__ import annotations

from typing import Any

import torch


class StepAccumulator:
    """Running sums and counts per metric and step (float64, so long evaluations do not drift)."""

    def __init__(self, names: tuple[str, ...], steps: int) -> None:
        self.names = names
        self.steps = steps
        self.sums = {n: [0.0] * steps for n in names}
        self.counts = {n: [0] * steps for n in names}
        self.windows = 0

    def add(self, step: int, values: dict[str, torch.Tensor]) -> None:
        """Add per-frame values of step ``step`` (1-based); metrics left out are simply absent."""
        for name, tensor in values.items():
            self.sums[name][step - 1] += float(tensor.to(torch.float64).sum())
            self.counts[name][step - 1] += tensor.numel()

    def _step_value(self, name: str, index: int) -> float | None:
        count = self.counts[name][index]
        return self.sums[name][index] / count if count else None

    def per_step(self) -> list[dict[str, Any]]:
        return [{"step": k + 1, **{n: self._step_value(n, k) for n in self.names}} for k in range(self.steps)]

    def cumulative(self) -> list[dict[str, Any]]:
        rows = []
        for k in range(self.steps):
            row: dict[str, Any] = {"step": k + 1}
            for name in self.names:
                values = [self._step_value(name, i) for i in range(k + 1)]
                row[name] = None if any(v is None for v in values) else sum(values) / len(values)
            rows.append(row)
        return rows

    def mean(self) -> dict[str, float | None]:
        out: dict[str, float | None] = {}
        for name in self.names:
            count = sum(self.counts[name])
            out[name] = sum(self.sums[name]) / count if count else None
        return out

    def summary(self) -> dict[str, Any]:
        return {
            "per_step": self.per_step(),
            "cumulative": self.cumulative(),
            "mean": self.mean(),
            "count": self.windows,
        }
