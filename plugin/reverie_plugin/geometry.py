"""Where on a drawable a dream happens, in the drawable's own pixel coordinates.

A dream needs context: the network sees a margin of pixels around the selection, and the layer
mask made from the selection keeps everything outside it unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

MIN_MARGIN = 16
MAX_MARGIN = 128
MARGIN_SHARE = 0.125
# Networks need room (InceptionV3 and MobileNet refuse inputs under about 80 px), so a small
# selection brings at least this much of its surroundings along, where the drawable has it.
MIN_SIDE = 128
# Without a selection a preview dreams a central crop at most this long, then scales it down.
PREVIEW_CROP = 1024


@dataclass(frozen=True)
class Rect:
    """An axis-aligned rectangle of whole pixels."""

    x: int
    y: int
    width: int
    height: int

    def shifted(self, dx: int, dy: int) -> Rect:
        """The same rectangle moved, e.g. from drawable to image coordinates."""
        return Rect(self.x + dx, self.y + dy, self.width, self.height)


def context_margin(width: int, height: int) -> int:
    """The margin around a selection: an eighth of its long side, within sensible bounds."""
    return max(MIN_MARGIN, min(MAX_MARGIN, round(max(width, height) * MARGIN_SHARE)))


def dream_region(drawable_width: int, drawable_height: int, selected: Rect | None) -> Rect:
    """The part of the drawable sent to the server: the selected part plus a margin, or all of it."""
    if selected is None:
        return Rect(0, 0, drawable_width, drawable_height)
    margin = context_margin(selected.width, selected.height)
    left, right = _span(selected.x, selected.width, margin, drawable_width)
    top, bottom = _span(selected.y, selected.height, margin, drawable_height)
    return Rect(left, top, right - left, bottom - top)


def _span(start: int, length: int, margin: int, limit: int) -> tuple[int, int]:
    """``[start, start + length)`` widened by ``margin`` and to MIN_SIDE, kept within ``[0, limit)``."""
    low, high = start - margin, start + length + margin
    shortfall = MIN_SIDE - (high - low)
    if shortfall > 0:
        low -= shortfall // 2
        high += shortfall - shortfall // 2
    if low < 0:
        high, low = high - low, 0
    if high > limit:
        low, high = max(0, low - (high - limit)), limit
    return low, high


def preview_region(drawable_width: int, drawable_height: int, selected: Rect | None) -> Rect:
    """What a preview dreams: the selection's region, or a central crop of the drawable."""
    if selected is not None:
        return dream_region(drawable_width, drawable_height, selected)
    width = min(drawable_width, PREVIEW_CROP)
    height = min(drawable_height, PREVIEW_CROP)
    return Rect((drawable_width - width) // 2, (drawable_height - height) // 2, width, height)


def scaled_size(width: int, height: int, long_side: int) -> tuple[float, int, int]:
    """``(scale, width, height)`` that fits ``long_side``; never enlarges."""
    scale = min(1.0, long_side / max(width, height))
    return scale, max(1, round(width * scale)), max(1, round(height * scale))
