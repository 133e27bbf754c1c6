"""The training-clip rule a prepared tree carries: which runs of frames make one training item.

``framepred prepare <source>`` records, in ``manifest.json`` under ``training_clips``, how the
paper's code cut that data set into training samples (specs/dmvfn.md §7.4), for example::

    "training_clips": {"frames": 9, "stride": 1, "random_start": false, "max_frame_step": 1,
                       "origin": "DMVFN KittiTrainDataset: every 9-frame window, stride 1"}

* ``frames``: frames per clip; ``stride``: frames between the starts of consecutive clips of a
  sequence (fixed windows);
* ``random_start``: instead, each sequence gives **one** clip per epoch at a random start, and the
  clip's frames are ``s`` apart with ``s`` drawn from 1..``max_frame_step`` (at most
  ``length // frames``, so the clip fits);
* ``origin``: where the rule comes from, for people.

Recipes decide whether to follow it (``framepred train dmvfn`` does by default). This module only
reads and writes the entry; it knows nothing of the sources that set it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from framepred.errors import DataError

MANIFEST_KEY = "training_clips"


@dataclass(frozen=True)
class ClipRule:
    frames: int
    stride: int | None = None  # fixed windows, one every ``stride`` frames (None: no overlap)
    random_start: bool = False  # one clip per sequence per epoch, at a random start
    max_frame_step: int = 1  # with random_start: frames of a clip are 1..max_frame_step apart
    origin: str = ""

    def __post_init__(self) -> None:
        if self.frames < 1 or (self.stride is not None and self.stride < 1) or self.max_frame_step < 1:
            raise ValueError(f"invalid training clip rule {self}")

    def describe(self) -> str:
        if self.random_start:
            steps = "" if self.max_frame_step == 1 else f", frames 1-{self.max_frame_step} apart"
            return f"one {self.frames}-frame clip per sequence per epoch (random start{steps})"
        stride = self.stride or self.frames
        return f"{self.frames}-frame windows, one every {stride} frame{'s' if stride > 1 else ''}"

    def to_manifest(self) -> dict[str, Any]:
        return asdict(self)


def windows(frames: int, stride: int, origin: str) -> dict[str, Any]:
    """The manifest entry for fixed windows of ``frames`` frames starting every ``stride`` frames."""
    return ClipRule(frames, stride, origin=origin).to_manifest()


def random_clips(frames: int, max_frame_step: int, origin: str) -> dict[str, Any]:
    """The manifest entry for one clip per sequence per epoch, random start and frame step."""
    return ClipRule(frames, None, True, max_frame_step, origin).to_manifest()


def read_clip_rule(manifest: dict[str, Any], where: str = "manifest.json") -> ClipRule | None:
    """The tree's rule, or None when its manifest has none (a hand-made tree, your own footage)."""
    entry = manifest.get(MANIFEST_KEY)
    if entry is None:
        return None
    try:
        if not isinstance(entry, dict):
            raise TypeError("not an object")
        stride = entry.get("stride")
        return ClipRule(
            frames=_integer(entry["frames"]),
            stride=None if stride is None else _integer(stride),
            random_start=bool(entry.get("random_start", False)),
            max_frame_step=_integer(entry.get("max_frame_step", 1)),
            origin=str(entry.get("origin", "")),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise DataError(
            f"{where}: its {MANIFEST_KEY!r} entry {entry!r} is not a valid rule ({error}); fix or delete the "
            "entry, or give --clip-frames/--clip-stride"
        ) from error


def _integer(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{value!r} is not an integer")
    return value
