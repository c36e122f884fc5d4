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
    """``gradient`` with each pyramid band scaled to unit RMS (bands of zeros stay zero), merged again."""
    bands = pyramid(gradient, levels, xp)
    scaled = [band / xp.maximum(xp.sqrt(xp.mean(xp.square(band))), 1e-10) for band in bands]
    return merge(scaled, xp)
