"""Which frames an evaluation scores: the windows of each protocol on a frame tree.

A :class:`Window` names the context frames a model sees and the frames it must predict, recursively
(prediction k is fed back as context for prediction k + 1).

* ``dmvfn`` (the official DMVFN test protocol): in each test window the context is frames 2 and 3
  (0-based) and the targets are frames 4, 5, ... (t+1 = frame 4, t+5 = frame 8). Cityscapes takes one
  window per sequence (its first 14 frames, of which 9 are used), KITTI every 9-frame window with
  stride 1. The prepare step records this in ``manifest["protocol"]`` as
  ``{"name": "dmvfn", "window": 9, "stride": 1 | null, ...}``; ``stride: null`` (or no manifest entry)
  means one window per sequence, starting at frame 0. Windows shorter than 9 frames (Vimeo's
  triplets, ``"window": 3``) are scored the way DMVFN scores them: the first frames are the context and
  the rest are the targets (#0, #1 -> #2).
* ``next``: slide the context over every sequence with stride 1 and score the following frame(s).
"""

from __future__ import annotations

from collections.abc import Sequence as Seq
from dataclasses import dataclass
from typing import Any

from framepred.data.tree import Sequence
from framepred.errors import UsageError

PROTOCOLS = ("dmvfn", "next")
DMVFN_FIRST_TARGET = 4  # 0-based: context frames 2 and 3 for a two-frame model
DMVFN_STEPS = 5
DMVFN_WINDOW = 9


@dataclass(frozen=True)
class Window:
    """Frames ``context`` (oldest first) are given; frames ``targets`` are predicted one after another."""

    sequence: Sequence
    context: tuple[int, ...]
    targets: tuple[int, ...]

    @property
    def label(self) -> str:
        return f"{self.sequence.split}/{self.sequence.name}@{self.context[0]}"


def manifest_protocol(manifest: dict[str, Any]) -> dict[str, Any]:
    """The ``protocol`` entry of a tree's manifest when it describes DMVFN windows, else ``{}``."""
    entry = manifest.get("protocol")
    if isinstance(entry, dict) and entry.get("name", "dmvfn") == "dmvfn":
        return entry
    return {}


def default_steps(protocol: str) -> int:
    return DMVFN_STEPS if protocol == "dmvfn" else 1


def dmvfn_first_target(window: int | None, context_frames: int) -> int:
    """Frame 4 in the usual 9- and 14-frame windows; right after the context in short (Vimeo) ones."""
    return context_frames if window is not None and window < DMVFN_WINDOW else DMVFN_FIRST_TARGET


def dmvfn_windows(
    sequences: Seq[Sequence],
    context_frames: int,
    steps: int,
    window: int | None = None,
    stride: int | None = None,
) -> list[Window]:
    """DMVFN windows: context ends at frame 3 of each window, targets are frames 4 .. 3 + steps.

    ``window`` is the manifest's window length (the span windows are counted over); ``stride`` None
    gives one window per sequence.
    """
    if context_frames > DMVFN_FIRST_TARGET:
        raise UsageError(
            f"the dmvfn protocol gives at most {DMVFN_FIRST_TARGET} context frames, the model needs "
            f"{context_frames}; use --protocol next"
        )
    first_target = dmvfn_first_target(window, context_frames)
    span = max(window or DMVFN_WINDOW, first_target + steps)
    context = tuple(range(first_target - context_frames, first_target))
    targets = tuple(range(first_target, first_target + steps))
    windows = []
    for sequence in sequences:
        last_start = len(sequence) - span
        starts = [0] if stride is None else range(0, last_start + 1, stride)
        for start in starts:
            if start <= last_start:
                windows.append(
                    Window(sequence, tuple(start + i for i in context), tuple(start + i for i in targets))
                )
    return windows


def next_windows(sequences: Seq[Sequence], context_frames: int, steps: int = 1) -> list[Window]:
    """Every stride-1 window: ``context_frames`` frames, then ``steps`` frames to predict."""
    windows = []
    for sequence in sequences:
        for start in range(len(sequence) - context_frames - steps + 1):
            context = tuple(range(start, start + context_frames))
            targets = tuple(range(start + context_frames, start + context_frames + steps))
            windows.append(Window(sequence, context, targets))
    return windows


def select_windows(
    protocol: str,
    sequences: Seq[Sequence],
    context_frames: int,
    steps: int | None = None,
    manifest: dict[str, Any] | None = None,
    limit: int | None = None,
) -> tuple[list[Window], dict[str, Any]]:
    """The windows to score and a description of how they were chosen (for the report's settings)."""
    if protocol not in PROTOCOLS:
        raise UsageError(f"unknown protocol {protocol!r}: choose one of {', '.join(PROTOCOLS)}")
    entry = manifest_protocol(manifest or {})
    window, stride = entry.get("window"), entry.get("stride")
    first_target = dmvfn_first_target(window, context_frames)
    if steps is None:
        short_window = protocol == "dmvfn" and first_target != DMVFN_FIRST_TARGET
        steps = window - first_target if short_window else default_steps(protocol)
    if steps < 1:
        raise UsageError(f"--steps must be at least 1, got {steps}")
    if protocol == "dmvfn":
        windows = dmvfn_windows(sequences, context_frames, steps, window, stride)
        first, last = first_target, first_target + steps - 1
        description = {
            "protocol": "dmvfn",
            "context": f"frames {first - context_frames}..{first - 1} of each window (0-based)",
            "targets": f"frames {first}..{last}, predicted recursively",
            "window": max(window or DMVFN_WINDOW, first_target + steps),
            "windows_per_sequence": "one" if stride is None else f"every window, stride {stride}",
            "from_manifest": bool(entry),
        }
    else:
        windows = next_windows(sequences, context_frames, steps)
        description = {
            "protocol": "next",
            "context": f"{context_frames} consecutive frames, sliding with stride 1",
            "targets": f"the next {steps} frame(s), predicted recursively",
        }
    description["steps"] = steps
    if limit is not None:
        if limit < 1:
            raise UsageError(f"--limit must be at least 1, got {limit}")
        windows = windows[:limit]
        description["limit"] = limit
    return windows, description
