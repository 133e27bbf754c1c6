"""A stand-in for gdown in documentation tests that run ``framepred`` as a subprocess.

It is put first on PYTHONPATH, so the real download code of framepred runs unchanged and stops at
gdown's boundary: ``download`` answers from local files named in ``FAKE_GDOWN_FILES`` (JSON:
``{drive_id: [drive_file_name, local_path]}``) instead of reaching Google Drive.
"""

from __future__ import annotations

import json
import os
import shutil
from types import SimpleNamespace

from gdown import exceptions  # noqa: F401  (framepred reads gdown.exceptions.FileURLRetrievalError)

__version__ = "0+fake"


def download(url=None, output=None, quiet=False, id=None, skip_download=False, **kwargs):
    files = json.loads(os.environ.get("FAKE_GDOWN_FILES", "{}"))
    if id not in files:
        raise exceptions.FileURLRetrievalError(f"no such file id {id} in FAKE_GDOWN_FILES")
    name, local = files[id]
    if skip_download:
        return SimpleNamespace(id=id, path=name, local_path=name)
    target = os.path.join(output, name)
    shutil.copyfile(local, target)
    return target
