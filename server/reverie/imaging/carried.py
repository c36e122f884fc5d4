"""Where a frame's dream starts: the previous frame's dream, carried along the flow onto this frame.

Dreaming each frame of a clip afresh grows new patterns every frame, so they flicker. Starting each frame from
the previous frame's dream, moved along the optical flow between the two source frames, lets the patterns
follow the picture instead. The carried dream is blended in only where the flow is reliable (elsewhere the
frame starts from its own source, as a first frame does), and the start takes the current source's colours
(its chroma, in CIELAB), so that colours cannot drift from frame to frame however long the clip.
"""

from __future__ import annotations

import numpy as np

from reverie.engine.colours import keep_colours
from reverie.imaging.motion import motion
from reverie_wire.errors import BadRequest

# How much of the carried dream a reliable pixel starts from (the rest is the current source): enough that
# the patterns persist, and some of this frame so that what the flow missed heals within a few frames.
CARRY = 0.95


def carried_start(
    source: np.ndarray, previous_source: np.ndarray, previous_dream: np.ndarray, carry: float = CARRY
) -> tuple[np.ndarray, np.ndarray]:
    """The image this frame's dream starts from, and where the carried dream was trusted (H×W bool); all three
    frames H×W×3 float32 RGB in [0, 1] of one size."""
    if not previous_source.shape == previous_dream.shape == source.shape:
        raise BadRequest(
            f"the previous frame's source ({_size(previous_source)}) and dream ({_size(previous_dream)}) must be "
            f"the size of this frame ({_size(source)})"
        )
    moved = motion(previous_source, source)
    weight = (carry * moved.mask.astype(np.float32))[..., None]
    change = moved.carried(previous_dream) - moved.carried(previous_source)
    start = np.clip(source + change * weight, 0.0, 1.0)
    return keep_colours(start.astype(np.float32), source), moved.mask


def _size(image: np.ndarray) -> str:
    return f"{image.shape[1]}x{image.shape[0]}"
