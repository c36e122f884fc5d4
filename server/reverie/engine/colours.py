"""Keeping the source's colours: the dream's lightness with the source's chroma, in CIELAB.

CIELAB rather than YCbCr because its a*, b* are perceptual: a lighter or darker pixel with the source's
a*, b* looks the same hue and colourfulness, where YCbCr's fixed Cb, Cr drift in saturation as luma moves
(the measurement is in tests/bench/keep_colours.py). Written in NumPy after the standard sRGB (D65) and CIE
formulas, band by band, so a large image needs no image-sized temporaries beyond the result.
"""

from __future__ import annotations

import numpy as np

# Rows converted at once: temporaries stay a few megabytes whatever the image's size.
_ROWS = 256
# Linear sRGB → CIE XYZ (D65), each row divided by the D65 white point so that white maps to (1, 1, 1).
_RGB_TO_XYZ = (
    np.array(
        [
            [0.412453, 0.357580, 0.180423],
            [0.212671, 0.715160, 0.072169],
            [0.019334, 0.119193, 0.950227],
        ]
    )
    / np.array([0.950456, 1.0, 1.088754])[:, None]
)
_XYZ_TO_RGB = np.linalg.inv(_RGB_TO_XYZ)
_DELTA = 6 / 29


def _linear(srgb: np.ndarray) -> np.ndarray:
    return np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)


def _gamma(linear: np.ndarray) -> np.ndarray:
    linear = np.clip(linear, 0.0, 1.0)
    return np.where(linear <= 0.0031308, linear * 12.92, 1.055 * linear ** (1 / 2.4) - 0.055)


def rgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """CIELAB (L* 0..100) of ``…×3`` sRGB in [0, 1], in float64."""
    xyz = _linear(rgb.astype(np.float64)) @ _RGB_TO_XYZ.T
    f = np.where(xyz > _DELTA**3, np.cbrt(xyz), xyz / (3 * _DELTA**2) + 4 / 29)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], axis=-1)


def lab_to_rgb(lab: np.ndarray) -> np.ndarray:
    """sRGB in [0, 1] (out-of-gamut colours clipped) of ``…×3`` CIELAB, in float64."""
    fy = (lab[..., 0] + 16) / 116
    f = np.stack([fy + lab[..., 1] / 500, fy, fy - lab[..., 2] / 200], axis=-1)
    xyz = np.where(f > _DELTA, f**3, 3 * _DELTA**2 * (f - 4 / 29))
    return _gamma(xyz @ _XYZ_TO_RGB.T)


def keep_colours(dreamed: np.ndarray, source: np.ndarray) -> np.ndarray:
    """``dreamed`` (H×W×3 float32 in [0, 1]) with its L* kept and a*, b* taken from ``source`` (same shape),
    written in place and returned."""
    for row in range(0, len(dreamed), _ROWS):
        band = slice(row, row + _ROWS)
        lab = rgb_to_lab(source[band])
        lab[..., 0] = rgb_to_lab(dreamed[band])[..., 0]
        dreamed[band] = lab_to_rgb(lab)
    return dreamed
