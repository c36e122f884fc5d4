"""A painted strength map: how much of each gradient step each pixel takes, so the dream grows where it is
painted (1) and leaves the picture alone where it is not (0).

The map has any size: it is resized to each octave, and once more to the picture for the last blend. That
blend is what makes an unpainted pixel come out as its source: detail re-injection and the octaves' resizing
move pixels a little even where no step did, and the blend by the full-size map puts them back.
"""

from __future__ import annotations

import numpy as np

from reverie.engine.octaves import resize_channel
from reverie_wire.errors import BadRequest


def check_strength(strength: np.ndarray) -> None:
    if not isinstance(strength, np.ndarray) or strength.ndim != 2 or min(strength.shape) < 1:
        raise BadRequest(f"strength: the engine takes an H×W map, got {getattr(strength, 'shape', type(strength))}")
    if strength.dtype != np.float32:
        raise BadRequest(f"strength: the engine takes a float32 map, got {strength.dtype}")
    if not np.isfinite(strength).all() or strength.min() < 0.0 or strength.max() > 1.0:
        raise BadRequest("strength: the map's values must be finite and within [0, 1]")


def strength_at(strength: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """The map at ``shape``, still within [0, 1] (a bilinear resize can overshoot by rounding)."""
    resized = strength.copy() if strength.shape == shape else resize_channel(strength, shape)
    return np.clip(resized, 0.0, 1.0, out=resized)


def painted(source: np.ndarray, dreamed: np.ndarray, strength: np.ndarray) -> np.ndarray:
    """``dreamed`` kept as much as the map says, ``source`` elsewhere (both H×W×3 in [0, 1]), in place."""
    share = strength_at(strength, source.shape[:2])[:, :, None]
    dreamed -= source
    dreamed *= share
    dreamed += source
    return np.clip(dreamed, 0.0, 1.0, out=dreamed)
