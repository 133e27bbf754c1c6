"""Frame-size parsing and resizing shared by every preparation path."""

from __future__ import annotations

import cv2
import numpy as np

from framepred.errors import UsageError

# Larger than any real video (8K is 7680x4320); a bigger request is a typo that would only fail
# later, deep inside OpenCV, trying to allocate gigabytes per frame.
MAX_SIDE = 16384


def parse_size(text: str | None) -> tuple[int, int] | None:
    """Parse ``WxH`` (e.g. ``832x256``) into (width, height); None stays None."""
    if text is None or text == "":
        return None
    parts = text.lower().replace("×", "x").split("x")
    if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
        raise UsageError(f"--size {text!r} is not WIDTHxHEIGHT; write it like 832x256")
    width, height = (int(p) for p in parts)
    if width < 1 or height < 1:
        raise UsageError(f"--size {text!r} must have a positive width and height")
    if width > MAX_SIDE or height > MAX_SIDE:
        raise UsageError(f"--size {text!r} is too large; width and height are at most {MAX_SIDE}")
    return width, height


def resize_frame(
    rgb: np.ndarray, size: tuple[int, int] | None, interpolation: int | None = None
) -> np.ndarray:
    """Resize to (width, height): area averaging when shrinking (no aliasing), else bilinear."""
    if size is None or (rgb.shape[1], rgb.shape[0]) == size:
        return rgb
    if interpolation is None:
        shrinking = size[0] < rgb.shape[1] and size[1] < rgb.shape[0]
        interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
    return cv2.resize(rgb, size, interpolation=interpolation)
