"""Locating and verifying the two weight files LPIPS needs, without importing ``lpips`` or torchvision.

* The AlexNet backbone ``alexnet-owt-7be5be79.pth`` (torchvision's model zoo) lives in the torch hub
  cache, ``<torch.hub.get_dir()>/checkpoints`` (``$TORCH_HOME/hub/checkpoints``). When it is missing it is
  downloaded from the zoo if the network allows, checked against the SHA-256 prefix in its name. A file
  given by ``--lpips-weights`` / ``$FRAMEPRED_LPIPS_WEIGHTS`` replaces it; it is not checked, only recorded
  as a custom backbone with its SHA-256.
* The linear heads ``weights/v0.1/alex.pth`` ship inside the ``lpips`` wheel. Importing ``lpips`` would
  import torchvision, so the package folder is found with ``importlib.util.find_spec`` (which does not
  execute it) or, failing that, from the wheel's file list.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

from framepred.errors import CheckpointError, DataError, WeightsMissingError
from framepred.io.weights import fetch_file, hub_checkpoint_dir, sha256_of

ALEXNET_FILE = "alexnet-owt-7be5be79.pth"
ALEXNET_URL = f"https://download.pytorch.org/models/{ALEXNET_FILE}"
ALEXNET_SHA256_PREFIX = "7be5be79"
LIN_RELATIVE_PATH = "weights/v0.1/alex.pth"
LIN_SHA256_PREFIX = "df73285e35b22355"
ENV_VAR = "FRAMEPRED_LPIPS_WEIGHTS"


@dataclass(frozen=True)
class WeightFile:
    """A located weight file: where it is, its SHA-256, and whether the user supplied it."""

    path: Path
    sha256: str
    custom: bool = False


def locate_backbone(override: str | os.PathLike | None = None, url: str | None = None) -> WeightFile:
    """The AlexNet backbone file: the override (argument or ``$FRAMEPRED_LPIPS_WEIGHTS``) or the hub cache.

    ``url`` defaults to torchvision's model zoo. Raises :class:`WeightsMissingError` saying where to put
    the file when it is absent and cannot be downloaded, and :class:`CheckpointError` when the cached
    file fails its SHA-256 check.
    """
    override = override or os.environ.get(ENV_VAR) or None
    if override is not None:
        path = Path(override).expanduser()
        if not path.is_file():
            # The user named this file, so a typo is an error rather than LPIPS quietly left out.
            raise DataError(
                f"LPIPS backbone file {path} does not exist; pass an existing AlexNet .pth to "
                f"--lpips-weights (or ${ENV_VAR})"
            )
        return WeightFile(path, sha256_of(path), custom=True)

    path = hub_checkpoint_dir() / ALEXNET_FILE
    if not path.is_file() and not fetch_file(url or ALEXNET_URL, path, ALEXNET_SHA256_PREFIX):
        raise WeightsMissingError(
            f"LPIPS needs the AlexNet backbone {ALEXNET_FILE}, which is not in {path.parent} and cannot be "
            f"downloaded (offline?): download {ALEXNET_URL} into {path.parent}, or pass --lpips-weights PATH "
            f"(or set ${ENV_VAR})"
        )
    digest = sha256_of(path)
    if not digest.startswith(ALEXNET_SHA256_PREFIX):
        raise CheckpointError(
            f"{path} is damaged or a different file (SHA-256 {digest[:8]}..., expected "
            f"{ALEXNET_SHA256_PREFIX}...); delete it and download {ALEXNET_URL} again"
        )
    return WeightFile(path, digest)


def _lpips_package_dir() -> Path | None:
    spec = importlib.util.find_spec("lpips")
    if spec is not None and spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    return None


def _lin_from_metadata() -> Path | None:
    try:
        files = importlib.metadata.files("lpips") or []
    except importlib.metadata.PackageNotFoundError:
        return None
    for entry in files:
        if str(entry).replace("\\", "/").endswith(f"lpips/{LIN_RELATIVE_PATH}"):
            return Path(entry.locate())
    return None


def locate_lin_weights() -> WeightFile:
    """The LPIPS v0.1 AlexNet linear-head file from the installed ``lpips`` wheel, hash-checked."""
    package_dir = _lpips_package_dir()
    path = package_dir / LIN_RELATIVE_PATH if package_dir is not None else None
    if path is None or not path.is_file():
        path = _lin_from_metadata()
    if path is None or not path.is_file():
        raise WeightsMissingError(
            f"LPIPS linear weights lpips/{LIN_RELATIVE_PATH} not found: install the lpips wheel "
            "(pip install lpips==0.1.4 --no-deps)"
        )
    digest = sha256_of(path)
    if not digest.startswith(LIN_SHA256_PREFIX):
        raise CheckpointError(
            f"{path} is not the lpips 0.1 AlexNet linear-head file (SHA-256 {digest[:16]}..., expected "
            f"{LIN_SHA256_PREFIX}...); reinstall lpips==0.1.4"
        )
    return WeightFile(path, digest)
