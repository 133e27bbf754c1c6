"""Pretrained weight files from torchvision's model zoo: where they live, how they are checked and fetched.

Files are cached where torch.hub (and torchvision) keep them, ``$TORCH_HOME/hub/checkpoints``, under
their zoo names, which end in the first hex digits of the file's SHA-256 (``vgg19-dcbb9e9d.pth``).
"""

from __future__ import annotations

import re
import urllib.error
from pathlib import Path

import torch

from framepred.errors import CheckpointError
from framepred.io.download import sha256_of

__all__ = ["fetch_file", "hash_prefix_in_name", "hub_checkpoint_dir", "sha256_of"]


def hub_checkpoint_dir() -> Path:
    """Where torch.hub (and torchvision) cache model-zoo files: ``$TORCH_HOME/hub/checkpoints``."""
    return Path(torch.hub.get_dir()) / "checkpoints"


def hash_prefix_in_name(path: Path) -> str | None:
    """The SHA-256 prefix a zoo-style name carries (``name-<8+ hex digits>.<ext>``), if any."""
    match = re.search(r"-([0-9a-f]{8,})\.[A-Za-z]+$", path.name)
    return match.group(1) if match else None


def fetch_file(url: str, dest: Path, sha256_prefix: str) -> bool:
    """Download ``url`` to ``dest`` through torch.hub, checking the SHA-256 prefix.

    Returns False when the network (or the URL) is unreachable; raises :class:`CheckpointError` when
    the download arrives with the wrong hash. torch.hub writes to a temporary file and renames it, so
    a failed download leaves nothing at ``dest``.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        torch.hub.download_url_to_file(url, str(dest), hash_prefix=sha256_prefix, progress=False)
    except (urllib.error.URLError, OSError):
        return False
    except RuntimeError as exc:  # torch.hub's "invalid hash value" error
        raise CheckpointError(f"download of {url} failed its SHA-256 check ({exc}); try again later") from exc
    return True
