"""The motion filter and the crop cutter, on uint8 frames held in memory (pure numpy, vectorised).

The original normalises frames to [-1, 1] (``x / 127.5 - 1``) and sums squared differences of
consecutive frames over a crop. The difference of two normalised values is ``(a - b) / 127.5``,
so the same sum is ``(sum of squared uint8 differences) / 127.5**2``: we work on exact integers
and turn the threshold into that scale once. Per start frame the squared differences of all
frame pairs of a clip are summed into one map and turned into an integral image, so the motion
of any crop position costs four look-ups and all trials of all clips are scored at once.
"""

from __future__ import annotations

import cv2
import numpy as np

# Squared difference on [-1, 1] values = squared difference on uint8 values / SQUARE_SCALE.
SQUARE_SCALE = 127.5**2


def pair_energy(earlier: np.ndarray, later: np.ndarray) -> np.ndarray:
    """Per-pixel squared uint8 difference summed over the colour channels: H x W int32."""
    square = cv2.absdiff(earlier, later).astype(np.int32)
    square *= square
    return square[..., 0] + square[..., 1] + square[..., 2]


def integral_image(energy: np.ndarray) -> np.ndarray:
    """(H + 1) x (W + 1) table whose [y, x] entry is the sum of ``energy[:y, :x]``.

    float64 holds these integer sums exactly (they stay far below 2**53), and OpenCV builds the
    table several times faster than two numpy cumulative sums.
    """
    return cv2.integral(energy.astype(np.float64), sdepth=cv2.CV_64F)


def crop_sums(table: np.ndarray, ys: np.ndarray, xs: np.ndarray, size: int) -> np.ndarray:
    """Sum of the energy map over the size x size crops with top-left corners (ys, xs), any shape."""
    bottom, right = ys + size, xs + size
    return table[bottom, right] - table[ys, right] - table[bottom, xs] + table[ys, xs]


def choose_trials(
    scores: np.ndarray, take_first: np.ndarray, threshold: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pick one trial per clip from ``scores`` (clips x trials, uint8-scale motion sums).

    As the original: a take-first clip keeps trial 0 unchecked; otherwise the first trial whose
    motion exceeds the threshold; when none does, the last one. Returns (chosen trial, trials used,
    whether the chosen crop passes the threshold).
    """
    # motion > threshold  <=>  score / 127.5**2 > threshold  <=>  4 * score > threshold * 255**2 (exact ints).
    passes = 4 * scores > threshold * 255.0**2
    any_pass = passes.any(axis=1)
    first_pass = passes.argmax(axis=1)
    last = scores.shape[1] - 1
    chosen = np.where(take_first, 0, np.where(any_pass, first_pass, last))
    tries = np.where(take_first, 1, np.where(any_pass, first_pass + 1, last + 1))
    kept_passes = passes[np.arange(len(chosen)), chosen]
    return chosen, tries, kept_passes


def cut_crops(window: np.ndarray, ys: np.ndarray, xs: np.ndarray, size: int) -> np.ndarray:
    """Cut crops from ``window`` (frames x H x W x 3) at corners (ys, xs): n x frames x size x size x 3."""
    frames, height, width, _ = window.shape
    # One 3-byte element per pixel, so the gather moves whole pixels; then a view of every
    # size x size window, indexed by (frame, corner) for all clips at once.
    pixels = window.view("V3").reshape(frames, height, width)
    windows = np.lib.stride_tricks.sliding_window_view(pixels, (size, size), axis=(1, 2))
    crops = windows[np.arange(frames)[None, :], ys[:, None], xs[:, None]]  # n x frames x size x size
    return crops.view(np.uint8).reshape(len(ys), frames, size, size, 3)
