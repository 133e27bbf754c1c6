"""Write files and folders under a temporary name, then rename, so readers never see half a result."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def temporary_sibling(path: Path, kind: str = "tmp", suffix: str = "") -> Path:
    """A hidden, unique name in the same folder as ``path`` (same file system, so rename is atomic).

    ``suffix`` is appended after the unique part, for writers that pick a format by extension.
    """
    return path.with_name(f".{path.name}.{kind}-{os.getpid()}-{uuid.uuid4().hex[:8]}{suffix}")


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary file path; on success it replaces ``path``, on any error it is removed.

    The temporary name keeps the real suffix, so writers that pick a format by extension still work.
    """
    final = Path(path)
    temp = temporary_sibling(final, "partial", final.suffix)
    try:
        yield temp
        os.replace(temp, final)
    finally:
        if temp.exists():
            temp.unlink()


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` to ``path`` atomically (fsynced before the rename)."""
    with atomic_path(path) as temp, open(temp, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())


def remove_tree_quietly(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
