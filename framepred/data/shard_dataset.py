"""`ShardDataset`: random access to the clip shards `framepred clip` writes, without loading them.

Shards are opened memory-mapped on first use in each process (so a DataLoader's workers each map
them themselves), and one item costs one small copy: the clip's frames x size x size x 3 bytes.
Clips are stored grouped by source sequence, so shuffle when training (``DataLoader(shuffle=True)``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from framepred.data.augment import AugmentOptions, augment_clip
from framepred.errors import DataError, UsageError

VALUE_RANGES = ("[-1,1]", "[0,1]")


class ShardDataset(Dataset):
    """Clips as float tensors (frames, 3, size, size) in ``value_range`` "[-1,1]" (default) or "[0,1]".

    [-1, 1] is ``x / 127.5 - 1``, the normalisation of the adversarial model's original code.
    """

    def __init__(self, root: str | os.PathLike, value_range: str = "[-1,1]") -> None:
        if value_range not in VALUE_RANGES:
            raise UsageError(f"value_range must be one of {', '.join(VALUE_RANGES)}, got {value_range!r}")
        self.root = Path(root)
        self.value_range = value_range
        self.manifest = _read_manifest(self.root)
        self.frames = int(self.manifest["frames"])
        self.size = int(self.manifest["size"])
        self.files = [self.root / shard["file"] for shard in self.manifest["shards"]]
        counts = np.array([int(shard["count"]) for shard in self.manifest["shards"]], dtype=np.int64)
        self.ends = np.cumsum(counts)
        self._shards: list[np.ndarray] | None = None
        for path, count in zip(self.files, counts):
            shard = _open_shard(path)
            if shard.shape != (count, self.frames, self.size, self.size, 3) or shard.dtype != np.uint8:
                raise DataError(
                    f"{path}: holds {shard.dtype} {shard.shape}, but manifest.json says "
                    f"({count}, {self.frames}, {self.size}, {self.size}, 3) uint8; make the clips again"
                )

    def __len__(self) -> int:
        return int(self.ends[-1]) if len(self.ends) else 0

    def raw(self, index: int) -> np.ndarray:
        """One clip as stored: uint8 (frames, size, size, 3) RGB (a copy, safe to keep)."""
        length = len(self)
        if index < 0:
            index += length
        if not 0 <= index < length:
            raise IndexError(f"clip index {index} out of range for {length} clips")
        if self._shards is None:
            self._shards = [_open_shard(path) for path in self.files]
        shard = int(np.searchsorted(self.ends, index, side="right"))
        row = index - (int(self.ends[shard - 1]) if shard else 0)
        return np.array(self._shards[shard][row])

    def __getitem__(self, index: int) -> torch.Tensor:
        clip = torch.from_numpy(self.raw(index)).permute(0, 3, 1, 2).float()
        if self.value_range == "[0,1]":
            return clip.div_(255.0)
        return clip.div_(127.5).sub_(1.0)

    def __getstate__(self) -> dict[str, Any]:
        # Memory maps are not sent to DataLoader workers; each process maps the shards itself.
        state = self.__dict__.copy()
        state["_shards"] = None
        return state


def is_shard_folder(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a `framepred clip` output (its manifest says so), not a frame tree."""
    manifest = Path(path) / "manifest.json"
    if not manifest.is_file():
        return (Path(path) / ".clip-run.json").exists()
    try:
        return json.loads(manifest.read_text(encoding="utf-8")).get("format") == "framepred-clips"
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, AttributeError):
        return False


class AugmentedShards(Dataset):
    """Shard clips for the training engine: ``dataset[(epoch, index)]`` -> ``N x 3 x S x S`` uint8,
    augmented with a generator seeded from ``(seed, epoch, index)``, as ``WindowDataset`` does."""

    def __init__(self, shards: ShardDataset, augment: AugmentOptions, seed: int) -> None:
        self.shards = shards
        self.augment = augment
        self.seed = seed

    def __len__(self) -> int:
        return len(self.shards)

    def __getitem__(self, key: tuple[int, int]) -> torch.Tensor:
        epoch, index = key
        rng = np.random.default_rng([self.seed, epoch, index])
        frames = augment_clip(self.shards.raw(index), self.augment, rng)
        return torch.from_numpy(frames).permute(0, 3, 1, 2).contiguous()


def _open_shard(path: Path) -> np.ndarray:
    try:
        return np.load(path, mmap_mode="r")
    except (OSError, ValueError) as error:
        raise DataError(f"{path}: missing or damaged clip shard ({error}); make the clips again") from error


def _read_manifest(root: Path) -> dict[str, Any]:
    path = root / "manifest.json"
    if not path.exists():
        if root.is_dir() and (root / ".clip-run.json").exists():
            raise DataError(f"{root}: clip extraction did not finish; run the same `framepred clip` again")
        raise DataError(f"{path}: not found; make clips with `framepred clip DATA -o {root}`")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DataError(f"{path}: unreadable ({error}); make the clips again") from error
    if not isinstance(manifest, dict) or manifest.get("format") != "framepred-clips":
        raise DataError(f"{path}: not a framepred clip manifest; give ShardDataset a `framepred clip` output")
    return manifest
