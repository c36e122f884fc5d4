"""Keep colours in YCbCr or in CIELAB: which keeps the photo's colours while the dream keeps its lightness.

Usage: python tests/bench/keep_colours.py [PHOTO] [--weights FILE|imagenet]

Dreams PHOTO (default the bundled sample) once with MobileNet, then moves the source's chroma onto the dream
in each space (clipped to sRGB and rounded to 8 bits, as an 8-bit layer gets it). Printed per space: the
chroma error measured in YCbCr (Cb, Cr in 1/255) and in CIELAB (a*, b*, whose 8-bit encoding steps by one
unit), the mean perceptual chroma distance ΔE(a*b*) to the source, and the lightness change (L*) kept from
the plain dream. scikit-image's CIELAB stands in for the engine's own (tests/unit/test_colours.py shows they
agree).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image
from skimage import color

from reverie.engine import DreamParams, dream, load_model

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "astronaut.jpg"
# BT.601 full-range YCbCr (JPEG's): luma and the two colour differences.
YCBCR = np.array([[0.299, 0.587, 0.114], [-0.168736, -0.331264, 0.5], [0.5, -0.418688, -0.081312]])


def eight_bit(rgb: np.ndarray) -> np.ndarray:
    return np.rint(np.clip(rgb, 0, 1) * 255) / 255


def via_ycbcr(dreamed: np.ndarray, source: np.ndarray) -> np.ndarray:
    mixed = source @ YCBCR.T
    mixed[..., 0] = (dreamed @ YCBCR.T)[..., 0]
    return eight_bit(mixed @ np.linalg.inv(YCBCR).T)


def via_lab(dreamed: np.ndarray, source: np.ndarray) -> np.ndarray:
    mixed = color.rgb2lab(source)
    mixed[..., 0] = color.rgb2lab(dreamed)[..., 0]
    return eight_bit(color.lab2rgb(mixed))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("photo", nargs="?", default=str(SAMPLE))
    parser.add_argument("--weights", default="imagenet")
    args = parser.parse_args()
    source = np.asarray(Image.open(args.photo).convert("RGB"), np.float32) / 255
    params = DreamParams(model="mobilenet", step_size=0.02, steps=10, seed=42, max_loss=None)
    dreamed = dream(source, params, load_model("mobilenet", args.weights)).image.astype(np.float64)
    source = source.astype(np.float64)
    plain = eight_bit(dreamed)
    source_ycc, source_lab = source @ YCBCR.T, color.rgb2lab(source)
    plain_lightness = np.abs(color.rgb2lab(plain)[..., 0] - source_lab[..., 0]).mean()
    print(f"plain dream: L* change {plain_lightness:.2f}")
    for name, kept in (("YCbCr", via_ycbcr(dreamed, source)), ("CIELAB", via_lab(dreamed, source))):
        ycc, lab = kept @ YCBCR.T, color.rgb2lab(kept)
        ycc_error = np.abs(ycc[..., 1:] - source_ycc[..., 1:]).mean() * 255
        lab_error = np.abs(lab[..., 1:] - source_lab[..., 1:]).mean()
        distance = np.hypot(*np.moveaxis(lab[..., 1:] - source_lab[..., 1:], -1, 0)).mean()
        lightness = np.abs(lab[..., 0] - source_lab[..., 0]).mean()
        print(
            f"{name:6}: CbCr error {ycc_error:.2f}/255, a*b* error {lab_error:.2f}, ΔE(a*b*) {distance:.2f}, "
            f"L* change {lightness:.2f} ({lightness / plain_lightness:.0%} of the plain dream's)"
        )


if __name__ == "__main__":
    main()
