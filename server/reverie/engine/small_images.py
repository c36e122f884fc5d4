"""Dreaming an image at another size than its own, and bringing the dream's change back to its size.

An image smaller than the layers' smallest input is enlarged for the dream; one larger than its pattern size's
working resolution is shrunk (see ``reverie_wire.pattern``).

A 64×64 icon or a thin selection is too small for InceptionV3's deep layers. Rather than refuse it, the
engine dreams an enlarged copy and adds the dream's change, shrunk back, to the original pixels, so the
original's own detail is kept and only what the dream added is resampled.
"""

from __future__ import annotations

import math

import numpy as np

from reverie.engine.octaves import resize
from reverie_wire.errors import ImageTooSmall

# Beyond this enlargement a dream would be mostly resampling, and a thin strip's long side would explode.
MAX_ENLARGEMENT = 8.0


def enlarged_shape(height: int, width: int, min_side: int) -> tuple[int, int] | None:
    """The shape an image is dreamed at so its short side reaches ``min_side``; None when it already does."""
    short = min(height, width)
    if short >= min_side:
        return None
    factor = min_side / short
    if factor > MAX_ENLARGEMENT:
        raise ImageTooSmall(
            f"the image is {width}×{height} pixels; these layers need at least {min_side}×{min_side}, and "
            f"Reverie enlarges at most {MAX_ENLARGEMENT:g}× (a short side of {math.ceil(min_side / MAX_ENLARGEMENT)} "
            "pixels): use a larger image or shallower layers"
        )
    return max(min_side, math.ceil(height * factor)), max(min_side, math.ceil(width * factor))


def brought_back(image: np.ndarray, enlarged: np.ndarray, dreamed: np.ndarray) -> np.ndarray:
    """``image`` with the change the dream made to its ``enlarged`` copy, shrunk to its size, added."""
    change = resize(dreamed - enlarged, image.shape[:2])
    restored: np.ndarray = np.clip(image + change, 0.0, 1.0)
    return restored


def enlarged_note(image: np.ndarray, enlarged: tuple[int, int]) -> str:
    height, width = image.shape[:2]
    return (
        f"the image is {width}×{height} pixels, under these layers' smallest input: it was dreamed enlarged to "
        f"{enlarged[1]}×{enlarged[0]} and brought back to its size"
    )


def working_note(image: np.ndarray, working: tuple[int, int]) -> str:
    height, width = image.shape[:2]
    return (
        f"the image is {width}×{height} pixels: it was dreamed at its pattern size, {working[1]}×{working[0]}, "
        "and the dream's change brought back to its size"
    )
