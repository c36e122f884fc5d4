"""Octave sizes and resizing between them."""

from __future__ import annotations

import numpy as np
from PIL import Image

from reverie.errors import ImageTooSmall


def octave_shapes(
    height: int, width: int, octaves: int, scale: float, min_side: int
) -> tuple[list[tuple[int, int]], list[str]]:
    """Shapes from smallest to the original, as the Keras example computes them; octaves whose
    smaller side would fall under ``min_side`` are dropped, with a note saying so."""
    if min(height, width) < min_side:
        raise ImageTooSmall(
            f"the image is {width}×{height} pixels; these layers need at least {min_side}×{min_side}: "
            "use a larger image or shallower layers"
        )
    shapes = [(int(height / scale**i), int(width / scale**i)) for i in range(octaves)]
    kept = [shape for shape in shapes if min(shape) >= min_side]
    notes = []
    if len(kept) < octaves:
        notes.append(
            f"used {len(kept)} of {octaves} octaves: smaller octaves would fall under the model's "
            f"minimum input of {min_side} pixels"
        )
    return kept[::-1], notes


def resize(image: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Bilinear resize of an H×W×C float32 image (antialiased when shrinking)."""
    if image.shape[:2] == shape:
        return image.copy()
    height, width = shape
    channels = [
        np.asarray(Image.fromarray(image[:, :, c], mode="F").resize((width, height), Image.Resampling.BILINEAR))
        for c in range(image.shape[2])
    ]
    return np.stack(channels, axis=2)
