"""Fusion images (Jing et al., Applied Intelligence 2021): an edge map and a segmentation map of a frame,
merged by a weighted sum into one 3-channel image.

The paper's notation calls the edge map the "monitoring condition" x and the segmentation s; its
notebook merges two images as ``a + 0.3 * b`` (OpenCV). We read that as ``edge_weight * edges +
seg_weight * segmentation`` with weights 1 and 0.3, clipped to [0, 255] (the order is our reading; the
paper's code for the method is not public, see ../shared/specs/fusion.md).

* Edges, ``edges``:
  - ``canny`` (the default, the paper's monitoring condition): OpenCV's Canny on the grey frame,
    thresholds ``canny_low``/``canny_high``, after an optional Gaussian blur of sigma ``edge_blur`` (0:
    none, as OpenCV's Canny) that keeps fine texture out of the edge map; edge pixels are 255;
  - ``gradient`` (ours): the soft Sobel gradient magnitude of the grey frame (blurred by ``edge_blur``
    first, in floating point), divided by a fixed ``GRADIENT_NORMALISER`` of 4 (the 3x3 Sobel kernels'
    gain: a sharp step of h grey levels scores h) and clipped to 255. A fixed normaliser, not each
    frame's maximum, so a pixel's value does not depend on the rest of the frame. Unlike binary Canny
    edges, it changes smoothly when the frame moves by a fraction of a pixel.
  ``edge_soften`` (ours; 0: off) Gaussian-blurs the edge map by that sigma after detection (a binary
  Canny map becomes soft lines).
* Segmentation, one colour per label:
  - ``slic`` (default, a stand-in for a semantic segmentation model, which the paper ran: pixellib's
    DeepLabV3+): scikit-image SLIC superpixels, each painted in the mean colour of its pixels;
  - ``folder``: label maps made by any segmentation model, one file per frame (``--seg-dir``);
    single-channel maps (8/16-bit or palette PNGs) are coloured with the Pascal VOC colour map, colour
    images are taken as they are;
  - ``none``: edges only.

Everything here is deterministic: the same frame and options give the same bytes.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from framepred.errors import DataError, UsageError

SEGMENTATIONS = ("slic", "folder", "none")
EDGES = ("canny", "gradient")
GRADIENT_NORMALISER = 4.0  # the 3x3 Sobel kernels' gain: a one-pixel step of h grey levels gives 4h


@dataclass(frozen=True)
class FusionOptions:
    canny_low: float = 100.0
    canny_high: float = 200.0
    edge_blur: float = 0.0
    edges: str = "canny"
    edge_soften: float = 0.0
    edge_weight: float = 1.0
    seg_weight: float = 0.3
    segmentation: str = "slic"
    slic_segments: int = 200
    slic_compactness: float = 10.0

    def check(self) -> None:
        """Refuse values that cannot make a fusion image (UsageError naming the option)."""
        if self.segmentation not in SEGMENTATIONS:
            raise UsageError(
                f"unknown segmentation {self.segmentation!r}: choose one of {', '.join(SEGMENTATIONS)}"
            )
        if not 0 <= self.canny_low <= self.canny_high:
            raise UsageError(
                f"Canny thresholds must satisfy 0 <= --canny-low <= --canny-high, got "
                f"{self.canny_low:g} and {self.canny_high:g}"
            )
        if self.edge_blur < 0:
            raise UsageError(f"--edge-blur is a Gaussian sigma (0: none), got {self.edge_blur:g}")
        if self.edges not in EDGES:
            raise UsageError(f"unknown --edges {self.edges!r}: choose one of {', '.join(EDGES)}")
        if not self.edge_soften >= 0:  # also refuses NaN
            raise UsageError(f"--edge-soften is a Gaussian sigma (0: off), got {self.edge_soften:g}")
        if self.edge_weight < 0 or self.seg_weight < 0:
            raise UsageError("--edge-weight and --seg-weight must not be negative")
        if self.slic_segments < 1 or self.slic_compactness <= 0:
            raise UsageError("--slic-segments must be at least 1 and --slic-compactness positive")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any], where: str = "fusion options") -> FusionOptions:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise DataError(f"{where}: unknown fusion option(s) {', '.join(unknown)}")
        options = cls(**values)
        options.check()
        return options


def edge_map(frame: np.ndarray, low: float, high: float, blur: float = 0.0) -> np.ndarray:
    """Canny edges of a uint8 RGB frame (blurred with sigma ``blur`` first when positive): H x W uint8,
    255 on edges, 0 elsewhere."""
    grey = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
    if blur > 0:
        grey = cv2.GaussianBlur(grey, (0, 0), blur)
    return cv2.Canny(grey, low, high)


def gradient_map(frame: np.ndarray, blur: float = 0.0) -> np.ndarray:
    """The soft edge map of a uint8 RGB frame: Sobel gradient magnitude of its grey image (blurred with
    sigma ``blur`` first when positive), over ``GRADIENT_NORMALISER``, clipped: H x W float32 in [0, 255]."""
    grey = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY).astype(np.float32)
    if blur > 0:
        # In floating point: an 8-bit blurred image would round away the sub-pixel changes this map is for.
        grey = cv2.GaussianBlur(grey, (0, 0), blur)
    dx = cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3, borderType=cv2.BORDER_REFLECT)
    dy = cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3, borderType=cv2.BORDER_REFLECT)
    return np.minimum(cv2.magnitude(dx, dy) / GRADIENT_NORMALISER, 255.0)


def edges_of(frame: np.ndarray, options: FusionOptions) -> np.ndarray:
    """The edge map ``options`` ask for (``edges``, then ``edge_soften``): H x W, values in [0, 255]."""
    if options.edges == "gradient":
        edges = gradient_map(frame, options.edge_blur)
    else:
        edges = edge_map(frame, options.canny_low, options.canny_high, options.edge_blur)
    if options.edge_soften > 0:
        edges = cv2.GaussianBlur(edges.astype(np.float32), (0, 0), options.edge_soften)
    return edges


def superpixel_map(frame: np.ndarray, segments: int, compactness: float) -> np.ndarray:
    """The stand-in segmentation: SLIC superpixels painted in their mean colour (H x W x 3 uint8)."""
    from skimage.segmentation import slic

    labels = slic(frame, n_segments=segments, compactness=compactness, start_label=0)
    flat = labels.ravel()
    counts = np.bincount(flat).astype(np.float64)
    means = (
        np.stack([np.bincount(flat, weights=frame[..., c].ravel().astype(np.float64)) for c in range(3)], 1)
        / np.maximum(counts, 1)[:, None]
    )
    return np.rint(means).astype(np.uint8)[labels]


def voc_colours(labels: np.ndarray) -> np.ndarray:
    """Colour integer labels with the Pascal VOC colour map (label 0 black; bits of the label spread over
    the high bits of R, G and B), so a label gets the same colour whatever tool wrote the file."""
    labels = labels.astype(np.int64)
    colours = np.zeros((*labels.shape, 3), np.uint8)
    remaining = labels.copy()
    for bit in range(8):
        for channel in range(3):
            colours[..., channel] |= (((remaining >> channel) & 1) << (7 - bit)).astype(np.uint8)
        remaining >>= 3
    return colours


def read_segmentation(path: str | os.PathLike) -> np.ndarray:
    """A segmentation file as H x W x 3 uint8 colours: label maps coloured, colour images as they are."""
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    try:
        with Image.open(path) as image:
            if image.mode in ("RGB", "RGBA"):
                return np.asarray(image.convert("RGB"), dtype=np.uint8).copy()
            labels = np.asarray(image)  # L, P (palette indices), I;16, I: one label per pixel
    except (OSError, UnidentifiedImageError) as error:
        raise DataError(f"{path}: not a readable segmentation image ({error}); replace it") from error
    if labels.ndim != 2:
        raise DataError(f"{path}: expected a label map or a colour image, got pixel shape {labels.shape}")
    return voc_colours(labels)


def fuse(edges: np.ndarray, segmentation: np.ndarray | None, options: FusionOptions) -> np.ndarray:
    """``edge_weight * edges + seg_weight * segmentation``, rounded and clipped to uint8 RGB."""
    fused = options.edge_weight * edges.astype(np.float32)[..., None].repeat(3, axis=2)
    if segmentation is not None:
        fused = fused + options.seg_weight * segmentation.astype(np.float32)
    return np.clip(np.rint(fused), 0, 255).astype(np.uint8)


def fusion_image(
    frame: np.ndarray, options: FusionOptions, segmentation: np.ndarray | None = None, where: str = "frame"
) -> np.ndarray:
    """The fusion image of one uint8 RGB frame. ``segmentation`` (H x W x 3 colours) is required when
    ``options.segmentation == "folder"`` and must have the frame's size."""
    edges = edges_of(frame, options)
    if options.segmentation == "slic":
        segmentation = superpixel_map(frame, options.slic_segments, options.slic_compactness)
    elif options.segmentation == "none":
        segmentation = None
    elif segmentation is None:
        raise DataError(
            f"{where}: these fusion images take their segmentation from a folder (--seg-dir), and none "
            "was given for this frame; new frames need label maps from the same segmentation model"
        )
    elif segmentation.shape[:2] != frame.shape[:2]:
        raise DataError(
            f"{where}: its segmentation is {segmentation.shape[1]}x{segmentation.shape[0]} but the frame is "
            f"{frame.shape[1]}x{frame.shape[0]}; give label maps at the frame size"
        )
    return fuse(edges, segmentation, options)
