"""The canonical frame tree: ``ROOT/<split>/<sequence>/<index:06d>.png`` plus ``ROOT/manifest.json``.

Every reader in framepred accepts it and every writer makes it. Writers build each sequence in a
hidden temporary folder and rename it into place when it is complete, so a visible sequence folder
is always whole; readers ignore hidden entries, which is all a killed writer can leave behind.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np

from framepred.errors import DataError
from framepred.io.atomic import temporary_sibling, write_text_atomic, writer_alive
from framepred.io.images import check_rgb, encode_image, list_images, read_image
from framepred.io.paths import is_hidden, natural_key

MANIFEST_NAME = "manifest.json"
FORMAT_NAME = "framepred-frames"


@dataclass
class Sequence:
    """One sequence of frames on disk, in temporal order."""

    split: str
    name: str
    path: Path
    frames: list[Path] = field(repr=False)

    def __len__(self) -> int:
        return len(self.frames)

    def read(self, index: int) -> np.ndarray:
        return read_image(self.frames[index])

    def read_all(self) -> list[np.ndarray]:
        return [read_image(p) for p in self.frames]


def _subfolders(folder: Path) -> list[Path]:
    return sorted(
        (p for p in folder.iterdir() if p.is_dir() and not is_hidden(p)), key=lambda p: natural_key(p.name)
    )


class FrameTree:
    """Read a frame tree, with or without ``manifest.json`` (a tree made by hand is fine)."""

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise DataError(f"{self.root}: no such frame tree; run `framepred prepare` to make one")
        self.manifest = read_manifest(self.root)

    def splits(self) -> list[str]:
        return [p.name for p in _subfolders(self.root) if any(list_images(s) for s in _subfolders(p))]

    def sequences(self, split: str | None = None) -> list[Sequence]:
        """Sequences of one split, or of every split when ``split`` is None, in natural order."""
        if split is not None and not (self.root / split).is_dir():
            known = ", ".join(self.splits()) or "none"
            raise DataError(f"{self.root}: has no split {split!r} (splits: {known}); pick one with --split")
        names = [split] if split is not None else self.splits()
        found = []
        for split_name in names:
            for folder in _subfolders(self.root / split_name):
                frames = list_images(folder)
                if frames:
                    found.append(Sequence(split_name, folder.name, folder, frames))
        return found


def discover_sequences(path: str | os.PathLike, split: str | None = None) -> list[Sequence]:
    """Sequences under ``path``: a frame tree, one of its splits, a folder of frame folders, or one."""
    path = Path(path)
    if not path.is_dir():
        raise DataError(f"{path}: no such folder; give a frame tree or a folder of frame folders")
    images = list_images(path)
    if images:
        # Frame folders beside the images make it ambiguous; guessing "one sequence" would drop them.
        folders = [f.name for f in _subfolders(path) if list_images(f)]
        if folders:
            raise DataError(
                f"{path}: holds both images ({images[0].name}) and frame folders ({', '.join(folders[:3])}); "
                "move the loose images into a folder of their own, or remove them"
            )
        return [Sequence(path.parent.name, path.name, path, images)]
    tree = FrameTree(path)
    if tree.splits():
        return tree.sequences(split)
    sequences = [Sequence(path.name, f.name, f, list_images(f)) for f in _subfolders(path)]
    sequences = [s for s in sequences if s.frames]
    if not sequences:
        raise DataError(f"{path}: contains no frame folders (expected <split>/<sequence>/000000.png)")
    return sequences


class SequenceWriter:
    """Write one sequence atomically: frames go to a hidden folder renamed into place on success.

    All frames must share one size; ``source`` (a path) only improves error messages. With
    ``threads > 1`` frames are encoded in background threads (OpenCV releases the GIL), at most
    ``2 * threads`` frames in flight, so one long video still uses every core.
    """

    def __init__(
        self,
        root: str | os.PathLike,
        split: str,
        name: str,
        suffix: str = ".png",
        overwrite: bool = False,
        threads: int = 1,
    ) -> None:
        if (
            not name
            or "/" in name
            or name.startswith(".")
            or not split
            or "/" in split
            or split.startswith(".")
        ):
            raise DataError(
                f"invalid split/sequence name {split!r}/{name!r}: "
                "use plain names without '/' or a leading dot"
            )
        self.final = Path(root) / split / name
        self.suffix = suffix
        self.overwrite = overwrite
        self.count = 0
        self.size: tuple[int, int] | None = None
        try:
            self.final.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise DataError(
                f"{self.final.parent}: cannot create the output folder ({error.strerror}); "
                "choose a writable -o"
            ) from error
        if self.final.exists() and not overwrite:
            raise DataError(
                f"{self.final}: sequence already exists; remove it or choose another output folder"
            )
        self.temp = temporary_sibling(self.final, "partial")
        try:
            self.temp.mkdir()
        except OSError as error:
            raise DataError(
                f"{self.final.parent}: cannot write there ({error.strerror}); choose a writable -o"
            ) from error
        self._threads = threads
        self._pool = ThreadPoolExecutor(threads) if threads > 1 else None
        self._pending: deque[Future] = deque()

    def _save(self, target: Path, rgb: np.ndarray) -> None:
        try:
            target.write_bytes(encode_image(rgb, self.suffix))
        except OSError as error:  # a full disk or quota is the user's to fix, not a crash
            message = f"{self.final}: cannot write its frames ({error.strerror})"
            raise DataError(f"{message}; free disk space or choose another -o") from error

    def _drain(self, keep: int = 0) -> None:
        while len(self._pending) > keep:
            self._pending.popleft().result()

    def _stop_pool(self) -> None:
        if self._pool is not None:
            for future in self._pending:
                future.cancel()
            self._pool.shutdown(wait=True)
            self._pool = None
        self._pending.clear()

    def write(self, rgb: np.ndarray, source: str | os.PathLike | None = None) -> Path:
        check_rgb(rgb)
        size = (rgb.shape[1], rgb.shape[0])
        if self.size is None:
            self.size = size
        elif size != self.size:
            where = source or f"frame {self.count}"
            raise DataError(
                f"{where}: frame is {size[0]}x{size[1]} but earlier frames of sequence {self.final.name} are "
                f"{self.size[0]}x{self.size[1]}; resize them to one size (e.g. --size WxH)"
            )
        target = self.temp / f"{self.count:06d}{self.suffix}"
        if self._pool is None:
            self._save(target, rgb)
        else:
            self._pending.append(self._pool.submit(self._save, target, rgb))
            self._drain(keep=2 * self._threads)
        self.count += 1
        return target

    def commit(self) -> Path:
        try:
            self._drain()
        except BaseException:
            self.abort()
            raise
        self._stop_pool()
        if self.count == 0:
            self.abort()
            raise DataError(f"{self.final}: no frames were written, so the sequence was not created")
        if self.final.exists() and self.overwrite:
            old = temporary_sibling(self.final, "old")
            os.replace(self.final, old)
            os.replace(self.temp, self.final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(self.temp, self.final)
        return self.final

    def abort(self) -> None:
        self._stop_pool()
        shutil.rmtree(self.temp, ignore_errors=True)

    def __enter__(self) -> SequenceWriter:
        return self

    def __exit__(self, exc_type: type | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.abort()


def ensure_output_folder(path: str | os.PathLike) -> Path:
    """Create an output folder (and parents), or fail with a line that says why and what to do."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise DataError(f"{path}: is a file, not a folder; choose another -o")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DataError(
            f"{path}: cannot create the output folder ({error.strerror}); choose a writable -o"
        ) from error
    if not os.access(path, os.W_OK):
        raise DataError(f"{path}: output folder is not writable; choose another -o or fix its permissions")
    return path


def _writer_alive(temp_name: str) -> bool:
    """Whether the writer of a hidden temporary folder (``.NAME.partial-PID-HOST-...``) may still run.

    Names from before the machine was recorded (``.NAME.partial-PID-RANDOM``) count as this machine's.
    """
    fields = temp_name.rsplit(".partial-", 1)[-1].split("-")
    if not fields[0].isdigit():
        return False
    host = fields[1] if len(fields) > 2 and re.fullmatch(r"[0-9a-f]{8}", fields[1]) else None
    return writer_alive(int(fields[0]), host)


def remove_stale_partials(root: str | os.PathLike, only: set[tuple[str, str]] | None = None) -> int:
    """Delete hidden temporary folders left by killed writers; returns how many were removed.

    Folders whose writer process is still alive (another run into the same tree) are left alone.
    ``only`` limits the clean-up to those (split, sequence) names: tasks of a sharded run on other
    machines write the other sequences, and their process ids mean nothing here.
    """
    removed = 0
    root = Path(root)
    if not root.is_dir():
        return 0
    for split in [root, *(p for p in root.iterdir() if p.is_dir() and not is_hidden(p))]:
        for entry in split.iterdir():
            stale = entry.is_dir() and is_hidden(entry) and ".partial-" in entry.name
            if stale and only is not None:
                name = entry.name[1:].rsplit(".partial-", 1)[0]
                stale = (split.name, name) in only
            if stale and not _writer_alive(entry.name):
                shutil.rmtree(entry, ignore_errors=True)
                removed += 1
    return removed


def read_manifest(root: str | os.PathLike) -> dict[str, Any]:
    """The tree's manifest, or an empty dict for a tree made by hand."""
    path = Path(root) / MANIFEST_NAME
    if not path.exists():
        return {}
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DataError(
            f"{path}: not valid JSON ({error}); fix it or delete it to treat the tree as hand-made"
        ) from error
    if not isinstance(manifest, dict):
        raise DataError(f"{path}: expected a JSON object; fix it or delete it")
    return manifest


def write_manifest(root: str | os.PathLike, manifest: dict[str, Any]) -> Path:
    path = Path(root) / MANIFEST_NAME
    try:
        write_text_atomic(path, json.dumps(manifest, indent=2, sort_keys=False) + "\n")
    except OSError as error:
        raise DataError(
            f"{path}: cannot write ({error.strerror}); free disk space or choose another -o"
        ) from error
    return path


def summarise_tree(root: str | os.PathLike, source: str, **extra: Any) -> dict[str, Any]:
    """A fresh manifest describing what is on disk now: splits, counts and frame size."""
    from PIL import Image  # header-only size reads

    from framepred import __version__

    tree = FrameTree(root)
    splits: dict[str, dict[str, int]] = {}
    sizes = set()
    for split in tree.splits():
        sequences = tree.sequences(split)
        splits[split] = {"sequences": len(sequences), "frames": sum(len(s) for s in sequences)}
        for sequence in sequences:
            with Image.open(sequence.frames[0]) as image:
                sizes.add(image.size)
    manifest = {
        "format": FORMAT_NAME,
        "source": source,
        "splits": splits,
        "sequence_count": sum(s["sequences"] for s in splits.values()),
        "frame_size": list(sizes.pop()) if len(sizes) == 1 else None,
        "framepred_version": __version__,
    }
    manifest.update(extra)
    return manifest
