"""SSIM and MS-SSIM with the conventions of ``pytorch_msssim`` (Wang et al. settings).

* Window: 11-tap Gaussian, sigma 1.5, applied separably (height, then width) per channel, no padding,
  so the SSIM map of an H x W frame is (H - 10) x (W - 10).
* Constants ``C1 = (0.01 L)^2``, ``C2 = (0.03 L)^2`` with ``L = data_range`` (1 for [0, 1] frames).
* Population (co)variances ``E[xy] - E[x]E[y]``; per-channel value = mean of the map; per-frame value =
  mean over channels.
* MS-SSIM: 5 scales with weights 0.0448, 0.2856, 0.3001, 0.2363, 0.1333; between scales a 2x2 average
  pool that pads odd sizes; scales 1-4 contribute ``relu(cs)``, scale 5 ``relu(ssim)``. The coarsest
  scale still needs an 11-px window, hence a short side of at least 161 px.

SSIM and the first MS-SSIM scale are the same computation, so :func:`ssim_and_ms_ssim` does it once.
Filtering runs in the input dtype (float32 is what the reference uses); the spatial means add up each
row in the input dtype and the rows in float64 (see :func:`spatial_mean`).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from framepred.errors import DataError
from framepred.metrics.checks import check_pair

WINDOW_SIZE = 11
WINDOW_SIGMA = 1.5
K1, K2 = 0.01, 0.03
MS_SSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)
SSIM_MIN_SIDE = WINDOW_SIZE
# The 5th scale is the input divided by 2**4 and must still hold the window: side > 10 * 16.
MS_SSIM_MIN_SIDE = (WINDOW_SIZE - 1) * 2 ** (len(MS_SSIM_WEIGHTS) - 1) + 1


def gaussian_window(size: int = WINDOW_SIZE, sigma: float = WINDOW_SIGMA) -> torch.Tensor:
    """Normalised 1-D Gaussian taps at offsets -size//2 .. size//2 (float64)."""
    offsets = torch.arange(size, dtype=torch.float64) - size // 2
    taps = torch.exp(-offsets.square() / (2.0 * sigma**2))
    return taps / taps.sum()


def _blur(maps: torch.Tensor, taps: torch.Tensor) -> torch.Tensor:
    """Valid separable Gaussian blur of every channel: height first, then width."""
    channels = maps.shape[1]
    size = taps.numel()
    vertical = taps.view(1, 1, size, 1).expand(channels, 1, size, 1)
    horizontal = taps.view(1, 1, 1, size).expand(channels, 1, 1, size)
    out = F.conv2d(maps, vertical, groups=channels)
    return F.conv2d(out, horizontal, groups=channels)


# SSIM map pixels computed at once: a strip's maps and blurs (about 12 MB of float32 for RGB) stay
# in the CPU's cache, where a whole 512 x 1024 frame's (about 100 MB) stream through memory several
# times; measured 2.4x faster for the first scale on this 2-core machine.
STRIP_PIXELS = 128 * 1024


def _ssim_cs(x: torch.Tensor, y: torch.Tensor, data_range: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel SSIM and contrast-structure terms, float64 tensors of shape B x C.

    Computed frame by frame in strips of map rows (each strip reads its rows plus the window's
    10); every map row is the same as in one whole-frame pass, and so is the spatial mean, which
    sums each row in the input dtype and the rows in float64 (see :func:`spatial_mean`)."""
    height, width = x.shape[-2:]
    map_height, map_width = height - (WINDOW_SIZE - 1), width - (WINDOW_SIZE - 1)
    strip = max(1, STRIP_PIXELS // width)
    taps = gaussian_window().to(device=x.device, dtype=x.dtype)
    ssim_rows, cs_rows = [], []
    for frame in range(x.shape[0]):
        ssim_parts, cs_parts = [], []
        for top in range(0, map_height, strip):
            rows = slice(top, min(top + strip, map_height) + WINDOW_SIZE - 1)
            ssim_part, cs_part = _ssim_cs_row_sums(
                x[frame : frame + 1, :, rows], y[frame : frame + 1, :, rows], data_range, taps
            )
            ssim_parts.append(ssim_part)
            cs_parts.append(cs_part)
        ssim_rows.append(torch.cat(ssim_parts, 2))
        cs_rows.append(torch.cat(cs_parts, 2))
    area = map_height * map_width
    ssim_mean = torch.cat(ssim_rows).sum(dim=2, dtype=torch.float64) / area
    cs_mean = torch.cat(cs_rows).sum(dim=2, dtype=torch.float64) / area
    return ssim_mean, cs_mean


def _ssim_cs_row_sums(
    x: torch.Tensor, y: torch.Tensor, data_range: float, taps: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Row sums (input dtype, ``B x C x rows``) of the SSIM and contrast-structure maps of ``x``, ``y``."""
    c1 = (K1 * data_range) ** 2
    c2 = (K2 * data_range) ** 2
    channels = x.shape[1]
    # Blur four stacked maps in one grouped convolution: x, y, x^2 + y^2 and xy (only the sum of the
    # two variances is needed). NHWC makes oneDNN's depthwise convolution much faster on CPU.
    maps = torch.empty(
        (x.shape[0], 4 * channels, *x.shape[2:]),
        dtype=x.dtype,
        device=x.device,
        memory_format=torch.channels_last,
    )
    maps[:, :channels] = x
    maps[:, channels : 2 * channels] = y
    torch.mul(x, x, out=maps[:, 2 * channels : 3 * channels]).addcmul_(y, y)
    torch.mul(x, y, out=maps[:, 3 * channels :])
    mu_x, mu_y, e_sq, e_xy = _blur(maps, taps).split(channels, dim=1)
    mu_xy = mu_x * mu_y
    mu_sq = torch.addcmul(mu_x * mu_x, mu_y, mu_y)
    # cs = (2 cov_xy + C2) / (var_x + var_y + C2); ssim = (2 mu_x mu_y + C1) / (mu_x^2 + mu_y^2 + C1) * cs
    cs_map = (e_xy - mu_xy).mul_(2.0).add_(c2).div_((e_sq - mu_sq).add_(c2))
    ssim_map = mu_xy.mul_(2.0).add_(c1).div_(mu_sq.add_(c1)).mul_(cs_map)
    return ssim_map.sum(dim=3), cs_map.sum(dim=3)


def spatial_mean(maps: torch.Tensor) -> torch.Tensor:
    """Mean over height and width of ``B x C x H x W`` maps, float64 ``B x C``: each row is summed in
    the maps' dtype (a short sum, exact to rounding), the rows in float64. Reducing in place keeps
    the maps' memory layout, where flattening channels_last maps would copy them first."""
    rows = maps.sum(dim=3)
    return rows.sum(dim=2, dtype=torch.float64) / (maps.shape[2] * maps.shape[3])


def _check_side(x: torch.Tensor, minimum: int, metric: str) -> None:
    height, width = x.shape[-2:]
    if min(height, width) < minimum:
        raise DataError(
            f"{metric} needs frames whose short side is at least {minimum} px, got {height}x{width}; "
            f"leave {metric} out for frames this small"
        )


def ssim_and_ms_ssim(
    pred: torch.Tensor, gt: torch.Tensor, data_range: float = 1.0, with_ms_ssim: bool = True
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """SSIM and (optionally) MS-SSIM of each frame, sharing the full-resolution scale.

    Returns two float64 tensors of shape ``B`` (the second is ``None`` without ``with_ms_ssim``).
    """
    x, y = check_pair(pred, gt)
    _check_side(x, SSIM_MIN_SIDE, "SSIM")
    if with_ms_ssim:
        _check_side(x, MS_SSIM_MIN_SIDE, "MS-SSIM")
    ssim_pc, cs_pc = _ssim_cs(x, y, data_range)
    ssim_value = ssim_pc.mean(dim=1)
    if not with_ms_ssim:
        return ssim_value, None

    factors = [torch.relu(cs_pc)]
    for level in range(1, len(MS_SSIM_WEIGHTS)):
        padding = (x.shape[-2] % 2, x.shape[-1] % 2)
        x = F.avg_pool2d(x, kernel_size=2, padding=padding)
        y = F.avg_pool2d(y, kernel_size=2, padding=padding)
        level_ssim, level_cs = _ssim_cs(x, y, data_range)
        last = level == len(MS_SSIM_WEIGHTS) - 1
        factors.append(torch.relu(level_ssim if last else level_cs))
    weights = torch.tensor(MS_SSIM_WEIGHTS, dtype=torch.float64, device=ssim_pc.device).view(-1, 1, 1)
    per_channel = torch.prod(torch.stack(factors).pow(weights), dim=0)
    return ssim_value, per_channel.mean(dim=1)


def ssim(pred: torch.Tensor, gt: torch.Tensor, data_range: float = 1.0) -> torch.Tensor:
    """SSIM of each frame of ``B x C x H x W`` batches (float64, shape ``B``); short side >= 11 px."""
    return ssim_and_ms_ssim(pred, gt, data_range, with_ms_ssim=False)[0]


def ms_ssim(pred: torch.Tensor, gt: torch.Tensor, data_range: float = 1.0) -> torch.Tensor:
    """MS-SSIM of each frame of ``B x C x H x W`` batches (float64, shape ``B``); short side >= 161 px."""
    return ssim_and_ms_ssim(pred, gt, data_range)[1]
