"""The download archive: one ``<extractor> <id>`` line per video already turned into frames.

Same format as yt-dlp's ``--download-archive``, so one file can serve both tools. framepred keeps
it itself rather than handing it to yt-dlp, because yt-dlp records a video as soon as the download
ends, and a video whose frames then failed to extract must not be skipped next time.
"""

from __future__ import annotations

import os
from pathlib import Path

from framepred.errors import DataError


class DownloadArchive:
    """The set of archive keys in ``path`` (missing file: empty), appended to as videos finish."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._keys: set[str] = set()
        if self.path.is_dir():
            raise DataError(f"archive {self.path} is a folder; pass a file path with --archive")
        if self.path.exists():
            try:
                text = self.path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as err:
                raise DataError(f"cannot read archive {self.path}: {err}; fix or delete it") from err
            self._keys = {line.strip() for line in text.splitlines() if line.strip()}

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def __len__(self) -> int:
        return len(self._keys)

    def add(self, key: str) -> None:
        """Record ``key``; the line is flushed to disk before this returns."""
        if key in self._keys:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Appending one short line is atomic enough: a crash leaves at worst a missing last line,
        # which only means that video is fetched again.
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(key + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        self._keys.add(key)
