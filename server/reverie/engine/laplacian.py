"""Laplacian-pyramid normalisation of a gradient (the original DeepDream notebook's ``lap_normalize``).

The gradient is split into a pyramid of frequency bands, each band is scaled to unit RMS, and the bands
are merged again: the coarse bands, which a plain normalisation leaves tiny beside the pixel-level noise,
get an equal say, so a step moves smooth shapes rather than speckle.

Pure functions of an H×W×C array written against an array namespace ``xp`` (``numpy``, or ``jax.numpy``
inside a compiled step): only padding, slicing, stacking and arithmetic, no in-place writes.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np

# The notebook's 5-tap binomial kernel, separable: [1, 4, 6, 4, 1] / 16 along each axis.
_TAPS = (1 / 16, 4 / 16, 6 / 16, 4 / 16, 1 / 16)
# Levels never go below this many pixels a side.
_SMALLEST = 2


def _shrink(image: Any, axis: int, xp: ModuleType) -> Any:
    """Blur along ``axis`` with the kernel and keep every second sample (length ceil(n / 2))."""
    length = image.shape[axis]
    widths = [(0, 0)] * image.ndim
    widths[axis] = (2, 2)
    padded = xp.pad(image, widths, mode="edge")
    window = [slice(None)] * image.ndim
    blurred: Any = 0  # an array after the first tap
    for offset, tap in enumerate(_TAPS):
        window[axis] = slice(offset, offset + length)
        blurred = blurred + tap * padded[tuple(window)]
    window[axis] = slice(0, length, 2)
    return blurred[tuple(window)]


def _grow(image: Any, axis: int, length: int, xp: ModuleType) -> Any:
    """The inverse of ``_shrink``'s subsampling: zeros inserted and blurred with the kernel × 2, as two
    interleaved phases (even samples (1, 6, 1) / 8, odd ones (1, 1) / 2), cut to ``length``."""
    widths = [(0, 0)] * image.ndim
    widths[axis] = (1, 1)
    padded = xp.pad(image, widths, mode="edge")
    count = image.shape[axis]

    def part(start: int) -> Any:
        window = [slice(None)] * image.ndim
        window[axis] = slice(start, start + count)
        return padded[tuple(window)]

    even = (part(0) + 6 * part(1) + part(2)) / 8
    odd = (part(1) + part(2)) / 2
    merged = xp.stack([even, odd], axis=axis + 1)
    shape = list(image.shape)
    shape[axis] = 2 * count
    window = [slice(None)] * image.ndim
    window[axis] = slice(0, length)
    return merged.reshape(shape)[tuple(window)]


def _down(image: Any, xp: ModuleType) -> Any:
    return _shrink(_shrink(image, 0, xp), 1, xp)


def _up(image: Any, shape: tuple[int, ...], xp: ModuleType) -> Any:
    return _grow(_grow(image, 0, shape[0], xp), 1, shape[1], xp)


def pyramid(image: Any, levels: int, xp: ModuleType = np) -> list[Any]:
    """Band-pass levels, finest first, then the low-pass rest; fewer where the image gets too small."""
    bands = []
    for _ in range(levels):
        if min(image.shape[:2]) < 2 * _SMALLEST:
            break
        low = _down(image, xp)
        bands.append(image - _up(low, image.shape, xp))
        image = low
    return [*bands, image]


def merge(bands: list[Any], xp: ModuleType = np) -> Any:
    """The image a ``pyramid`` was made from (exactly, up to rounding)."""
    image = bands[-1]
    for band in reversed(bands[:-1]):
        image = band + _up(image, band.shape, xp)
    return image


def lap_normalize(gradient: Any, levels: int, xp: ModuleType = np) -> Any:
    """``gradient`` with each pyramid band scaled to unit RMS (bands of zeros stay zero), merged again, in
    float32.

    A tiled host gradient arrives in bfloat16 (``host_tiles``), and NumPy reduces an ml_dtypes array in its own
    dtype: a bfloat16 sum stalls once it is 256 times its terms, so a band's mean came out hundreds of times
    too small and the dream was another picture. The pyramid is taken in float32 instead."""
    bands = pyramid(gradient.astype(xp.float32), levels, xp)
    scaled = [band / xp.maximum(xp.sqrt(xp.mean(xp.square(band))), 1e-10) for band in bands]
    return merge(scaled, xp)


def _filled(image: Any, rows: Any, cols: Any, xp: ModuleType) -> Any:
    """``image`` with everything beyond its true ``rows`` × ``cols`` replaced by the nearest true pixel, as
    the filters' edge padding would see the true part alone."""
    row_index = xp.minimum(xp.arange(image.shape[0]), rows - 1)
    col_index = xp.minimum(xp.arange(image.shape[1]), cols - 1)
    return image[row_index][:, col_index]


def _rms(image: Any, rows: Any, cols: Any, xp: ModuleType) -> Any:
    inside = (xp.arange(image.shape[0]) < rows)[:, None] & (xp.arange(image.shape[1]) < cols)[None, :]
    total = xp.sum(xp.where(inside[..., None], xp.square(image), 0.0))
    return xp.sqrt(total / (rows * cols * image.shape[2]).astype(image.dtype))


def lap_normalize_padded(gradient: Any, size: Any, levels: int, xp: ModuleType = np) -> Any:
    """``lap_normalize`` of the true ``size`` (rows, columns: traced numbers in a compiled step) part of a
    padded gradient, in place of it, with zeros beyond; the same arithmetic, one compiled shape for every
    true size.

    Each level's padding is refilled with the true edge before a filter reads it, so every band's true part
    is the true image's band, and each band's RMS is taken over that part. The true image stops splitting
    where it gets too small (``pyramid``), which a padded shape may not: the levels past that point, and
    the rest, are all scaled by the RMS of the true image's rest, which merges them back into it."""
    sizes = [(size[0], size[1])]
    bands, lows = [], [gradient]
    image = gradient
    for _ in range(levels):
        if min(image.shape[:2]) < 2 * _SMALLEST:
            break
        rows, cols = sizes[-1]
        sizes.append(((rows + 1) // 2, (cols + 1) // 2))
        image = _filled(image, rows, cols, xp)
        low = _down(image, xp)
        bands.append(image - _up(_filled(low, *sizes[-1], xp), image.shape, xp))
        image = low
        lows.append(low)
    # how many levels the true image splits into (its sizes only shrink: the first too small ends them)
    split = sum(((xp.minimum(rows, cols) >= 2 * _SMALLEST).astype(np.int32) for rows, cols in sizes[:-1]), 0)
    rest = xp.stack([_rms(low, *extent, xp) for low, extent in zip(lows, sizes, strict=True)])[split]
    rest_scale = 1 / xp.maximum(rest, 1e-10)
    merged = _filled(image * rest_scale, *sizes[-1], xp)
    for level in reversed(range(len(bands))):
        band, (rows, cols) = bands[level], sizes[level]
        scale = xp.where(level < split, 1 / xp.maximum(_rms(band, rows, cols, xp), 1e-10), rest_scale)
        merged = band * scale + _up(_filled(merged, *sizes[level + 1], xp), band.shape, xp)
    inside = (xp.arange(gradient.shape[0]) < size[0])[:, None] & (xp.arange(gradient.shape[1]) < size[1])[None, :]
    return xp.where(inside[..., None], merged, 0.0).astype(gradient.dtype)
