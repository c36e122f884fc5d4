"""What the engine reports while dreaming and when done."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Progress:
    """One gradient step done; octave and step count from 1."""

    octave: int
    octaves: int
    step: int
    steps: int
    fraction: float
    tiles: int
    loss: float


@dataclass(frozen=True)
class DreamResult:
    """The dreamed image (float32 RGB in [0, 1], the input's size) and how it was made."""

    image: np.ndarray
    seed: int
    octaves_used: int
    losses: tuple[float, ...]
    notes: tuple[str, ...]
    seconds: float
