"""Write files and folders under a temporary name, then rename, so readers never see half a result."""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def host_tag() -> str:
    """Eight hex digits naming this machine, for temporary names in folders several machines share."""
    return hashlib.sha256(socket.gethostname().encode()).hexdigest()[:8]


def temporary_sibling(path: Path, kind: str = "tmp", suffix: str = "") -> Path:
    """A hidden, unique name in the same folder as ``path`` (same file system, so rename is atomic).

    The name is ``.NAME.KIND-PID-HOST-RANDOM``: the process id and machine tell a later run whether
    the writer may still be alive (tasks of a job array on other machines share the folder).
    ``suffix`` is appended after the unique part, for writers that pick a format by extension.
    """
    return path.with_name(f".{path.name}.{kind}-{os.getpid()}-{host_tag()}-{uuid.uuid4().hex[:8]}{suffix}")


def writer_alive(pid: int, host: str | None) -> bool:
    """Whether process ``pid`` on machine ``host`` (a :func:`host_tag`; None: this one) may still run.

    A process on another machine cannot be asked, so it counts as alive.
    """
    if host is not None and host != host_tag():
        return True
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True


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
