"""Google Drive downloads through ``gdown`` (an optional extra: ``pip install 'framepred[weights]'``).

Drive serves a public file by id; the id says nothing about the file, so :func:`find_drive_file`
asks Drive for each candidate id's file name (no body is downloaded) and picks the one whose name
is the wanted one. :func:`drive_download` then fetches it into a folder of partial downloads,
time-limited and resumable (gdown keeps its own partial file there), and checks that the file it
got carries the wanted name and is not a web page (Drive's quota and virus-scan pages are HTML).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from framepred.errors import CheckpointError, WeightsMissingError
from framepred.io.download import CONNECT_TIMEOUT, ProgressFn, download_timeout, looks_like_html

INSTALL_HINT = "pip install 'framepred[weights]' (installs gdown)"


def gdown_available() -> bool:
    try:
        import gdown  # noqa: F401
    except ImportError:
        return False
    return True


def _gdown(what: str, fix: str) -> Any:
    try:
        import gdown
    except ImportError:
        raise WeightsMissingError(
            f"{what}: downloading from Google Drive needs gdown: {INSTALL_HINT}; or {fix}"
        ) from None
    return gdown


def _failure(error: Exception, what: str, fix: str) -> Exception:
    """One clear error for whatever gdown or requests raised."""
    import gdown.exceptions

    name = type(error).__name__
    first_line = (str(error).strip().splitlines() or [name])[0]
    if isinstance(error, gdown.exceptions.FileURLRetrievalError):
        return WeightsMissingError(
            f"{what}: Google Drive did not hand out the file (quota exceeded, or access refused: "
            f"{first_line}); try again later, or {fix}"
        )
    return WeightsMissingError(f"{what}: cannot download from Google Drive ({name}: {first_line}); {fix}")


def _timeouts() -> tuple[float, float]:
    seconds = download_timeout()
    return (min(seconds, CONNECT_TIMEOUT), seconds)


def find_drive_file(candidates: Sequence[str], file_name: str, what: str, fix: str) -> str:
    """The id among ``candidates`` whose Drive file is called ``file_name`` (asked in order)."""
    gdown = _gdown(what, fix)
    seen: list[str] = []
    for drive_id in candidates:
        try:
            found = gdown.download(id=drive_id, skip_download=True, quiet=True, timeout=_timeouts())
        except Exception as error:  # gdown raises requests' and its own exceptions
            raise _failure(error, what, fix) from None
        name = os.path.basename(str(getattr(found, "path", found)))
        if name == file_name:
            return drive_id
        seen.append(f"{drive_id} is {name}")
    raise CheckpointError(
        f"{what}: none of the authors' Google Drive files is called {file_name} ({'; '.join(seen)}); "
        f"the release may have moved; {fix}"
    )


def drive_download(drive_id: str, file_name: str, folder: Path, what: str, fix: str,
                   progress: ProgressFn | None = None) -> Path:  # fmt: skip
    """Download Drive file ``drive_id`` into ``folder`` (resuming a partial one); return its path."""
    gdown = _gdown(what, fix)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / file_name
    target.unlink(missing_ok=True)  # gdown skips a file that exists; we want a fresh, checked one
    try:
        output = gdown.download(
            id=drive_id, output=str(folder) + os.sep, quiet=True, resume=True, retries=3,
            timeout=_timeouts(), progress=progress,
        )  # fmt: skip
    except Exception as error:
        raise _failure(error, what, fix) from None
    path = Path(str(output))
    if path.name != file_name:
        path.unlink(missing_ok=True)
        raise CheckpointError(
            f"{what}: Google Drive file {drive_id} arrived as {path.name}, not {file_name}; "
            f"nothing was kept; {fix}"
        )
    if not path.is_file() or path.stat().st_size == 0:
        path.unlink(missing_ok=True)
        raise CheckpointError(f"{what}: Google Drive sent an empty file; nothing was kept; {fix}")
    if looks_like_html(path):
        path.unlink()
        raise CheckpointError(
            f"{what}: Google Drive sent a web page instead of the file (its quota or virus-scan page); "
            f"nothing was kept; try again later, or {fix}"
        )
    return path
