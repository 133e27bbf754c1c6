"""Read and write still images as uint8 H x W x 3 RGB arrays.

OpenCV does the decoding: it honours EXIF orientation with ``IMREAD_COLOR`` and keeps 16-bit depth
with ``IMREAD_ANYDEPTH``. Files are read through ``numpy.fromfile`` so non-ASCII paths work.
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from framepred.errors import DataError
from framepred.io.atomic import atomic_path
from framepred.io.paths import IMAGE_SUFFIXES, is_hidden, natural_key

_WRITE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"}

# OpenCV warns on stderr about files it cannot fully decode ("PNG input buffer is incomplete") just
# before framepred's own one-line error about the same file; keep only OpenCV's errors.
cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)


def to_uint8_rgb(image: np.ndarray, source: str = "image") -> np.ndarray:
    """Convert an OpenCV-decoded array (gray, BGR, BGRA; 8/16-bit or float) to uint8 RGB."""
    if image.dtype == np.uint16:
        image = ((image.astype(np.uint32) + 128) // 257).astype(np.uint8)
    elif image.dtype in (np.float32, np.float64):
        image = (np.clip(image, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    elif image.dtype != np.uint8:
        raise DataError(
            f"{source}: unsupported pixel type {image.dtype}; convert it to 8- or 16-bit PNG/JPEG"
        )
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2RGB)
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def read_image(path: str | os.PathLike) -> np.ndarray:
    """Read an image file as a uint8 H x W x 3 RGB array (EXIF orientation applied)."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: no such image file; check the path")
    if path.is_dir():
        raise DataError(f"{path}: is a folder, expected an image file")
    try:
        data = np.fromfile(path, dtype=np.uint8)
    except OSError as error:
        raise DataError(f"{path}: cannot be read ({error.strerror}); check its permissions") from error
    image = cv2.imdecode(data, cv2.IMREAD_COLOR | cv2.IMREAD_ANYDEPTH) if data.size else None
    if image is None:
        raise DataError(f"{path}: not a readable image (corrupt or unsupported format); replace or remove it")
    return to_uint8_rgb(image, str(path))


def encode_image(rgb: np.ndarray, suffix: str, jpeg_quality: int = 95) -> bytes:
    """Encode a uint8 RGB array to the bytes of a ``suffix`` (".png", ".jpg", ...) file."""
    check_rgb(rgb)
    params = [cv2.IMWRITE_JPEG_QUALITY, jpeg_quality] if suffix in (".jpg", ".jpeg") else []
    ok, buffer = cv2.imencode(suffix, cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), params)
    if not ok:
        raise DataError(f"cannot encode an image as {suffix}")
    return buffer.tobytes()


def write_image(path: str | os.PathLike, rgb: np.ndarray, jpeg_quality: int = 95) -> None:
    """Write a uint8 RGB array; the format follows the suffix. Atomic: no half-written file remains."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in _WRITE_SUFFIXES:
        raise DataError(f"{path}: unknown image suffix {suffix!r}; use .png or .jpg")
    data = encode_image(rgb, suffix, jpeg_quality)
    try:
        with atomic_path(path) as temp:
            temp.write_bytes(data)
    except OSError as error:
        raise DataError(
            f"{path}: cannot be written ({error.strerror}); check the folder exists and is writable"
        ) from error


def check_rgb(array: np.ndarray) -> None:
    if not isinstance(array, np.ndarray) or array.dtype != np.uint8 or array.ndim != 3 or array.shape[2] != 3:
        shape = getattr(array, "shape", None)
        dtype = getattr(array, "dtype", type(array).__name__)
        raise DataError(f"expected a uint8 H x W x 3 RGB array, got shape {shape} and type {dtype}")


def list_images(folder: str | os.PathLike) -> list[Path]:
    """Image files directly inside ``folder`` in natural order (hidden files ignored)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"{folder}: no such folder of images; check the path")
    files = [
        p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file() and not is_hidden(p)
    ]
    return sorted(files, key=lambda p: natural_key(p.name))
