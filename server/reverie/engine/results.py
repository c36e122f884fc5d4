"""What the engine reports while dreaming and when done."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

# ``max_side`` -> the dream's current image, float32 RGB in [0, 1], every k-th pixel of the octave's image
# with k = max(1, long side // max_side): at most twice ``max_side`` a side, for the caller to finish resizing;
# a new array each call, the caller's to change.
ImageView = Callable[[int], np.ndarray]


@dataclass(frozen=True)
class Progress:
    """One gradient step done; octave and step count from 1.

    ``image`` reads the image as this step left it, only when called (on a device it is a transfer), and
    only during the progress callback; ``octave_done`` marks the octave's last step (max-loss stops too);
    ``seconds_left`` estimates the rest of the dream (see ``eta``), None before anything was timed."""

    octave: int
    octaves: int
    step: int
    steps: int
    fraction: float
    tiles: int
    loss: float
    image: ImageView | None = field(default=None, compare=False, repr=False)
    octave_done: bool = False
    seconds_left: float | None = None


@dataclass(frozen=True)
class DreamResult:
    """The dreamed image (float32 RGB in [0, 1], the input's size) and how it was made."""

    image: np.ndarray
    seed: int
    octaves_used: int
    losses: tuple[float, ...]
    notes: tuple[str, ...]
    seconds: float


def image_view(state: Any, shape: tuple[int, int]) -> ImageView:
    """Progress's lazy reader of ``state`` (a host or device image in [-1, 1], maybe padded beyond ``shape``):
    the stride is taken where the image lives, so a device sends only the pixels asked for."""

    def view(max_side: int) -> np.ndarray:
        height, width = shape
        stride = max(1, max(height, width) // max(1, max_side))
        image = np.array(state[:height:stride, :width:stride], dtype=np.float32)  # a copy, the caller's
        image += 1.0
        image *= 0.5
        return np.clip(image, 0.0, 1.0, out=image)

    return view
