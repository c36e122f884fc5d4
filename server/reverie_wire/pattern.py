"""Pattern size: the working resolution a dream runs at, and the shrink it gives a picture.

A 12 MP photo dreamed at full size grows motifs that are tiny against it, and takes minutes on a CPU. Dreamed
at a working size, its patterns are larger against the picture and the dream is faster; the engine brings only
the dream's change back to the full size, so the photo's own detail is kept. Standard library only: the GIMP
plug-in computes a preview crop's shrink with it, so a preview is dreamed at the scale the full run is.
"""

from __future__ import annotations

import math

# (name, label, working megapixels; None: full size).
PATTERN_SIZES = (
    ("fine", "Fine: the dream runs at full size", None),
    ("medium", "Medium: the dream runs at about 2 megapixels, larger patterns, faster", 2.0),
    ("large", "Large: the dream runs at about 1 megapixel, the largest patterns, fastest", 1.0),
)
MEGAPIXELS = {name: megapixels for name, _, megapixels in PATTERN_SIZES}
# The smallest shrink a scale may ask for (a 100 MP picture at 1 MP is 0.1).
MIN_SCALE = 0.01


def working_scale(height: int, width: int, pattern_size: str) -> float:
    """The factor a ``height``×``width`` picture is shrunk by to dream at ``pattern_size``; 1.0 when it is
    already at or under the working size (a picture is never enlarged for its pattern size)."""
    megapixels = MEGAPIXELS[pattern_size]
    if megapixels is None or height * width <= megapixels * 1e6:
        return 1.0
    return math.sqrt(megapixels * 1e6 / (height * width))


def working_shape(height: int, width: int, scale: float, min_side: int = 1) -> tuple[int, int] | None:
    """The shape a ``height``×``width`` picture is dreamed at for a shrink of ``scale``, its short side kept at
    ``min_side`` or more (the layers' smallest input); None when that is no shrink at all."""
    scale = max(scale, min_side / min(height, width))
    if scale >= 1.0:
        return None
    shape = max(1, round(height * scale)), max(1, round(width * scale))
    return None if shape == (height, width) else shape
