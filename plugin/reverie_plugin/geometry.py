"""Where on a drawable a dream happens, in the drawable's own pixel coordinates.

A dream needs context: the network sees a margin of pixels around the selection, and the layer
mask made from the selection keeps everything outside it unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from reverie_wire.pattern import working_scale

MIN_MARGIN = 16
MAX_MARGIN = 128
MARGIN_SHARE = 0.125
# Networks need room (their smallest input is about 80 px; the server enlarges anything smaller, which
# coarsens the dream), so a small selection brings at least this much of its surroundings along, where
# the drawable has it.
MIN_SIDE = 128
# A preview shows at most this square of the full run's region, at full scale, dreamed with this much of
# the region around it as context (sent, not shown).
PREVIEW_SIDE = 512
PREVIEW_CONTEXT = 128


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


def preview_crop(region: Rect, selected: Rect | None, side: int = PREVIEW_SIDE) -> Rect:
    """What a preview shows: at most ``side``×``side`` of the full run's ``region``, centred on the
    selection (or on the region), at full scale, so the full run looks the same there."""
    width, height = min(side, region.width), min(side, region.height)
    centre = selected or region
    x = centre.x + centre.width // 2 - width // 2
    y = centre.y + centre.height // 2 - height // 2
    x = min(max(x, region.x), region.x + region.width - width)
    y = min(max(y, region.y), region.y + region.height - height)
    return Rect(x, y, width, height)


def with_context(crop: Rect, region: Rect, margin: int = PREVIEW_CONTEXT) -> Rect:
    """``crop`` widened by ``margin`` on every side, within ``region``: what a preview sends, so the network
    sees around the crop's edges what the full run sees there."""
    left, top = max(region.x, crop.x - margin), max(region.y, crop.y - margin)
    right = min(region.x + region.width, crop.x + crop.width + margin)
    bottom = min(region.y + region.height, crop.y + crop.height + margin)
    return Rect(left, top, right - left, bottom - top)


def preview_params(params: dict[str, Any], region: Rect) -> dict[str, Any]:
    """A preview's params: its crop is dreamed at the shrink the full run's ``region`` gets from its pattern
    size (``pattern_scale``), so the preview's patterns are as large against the picture as the full run's."""
    scale = working_scale(region.height, region.width, params["pattern_size"])
    return params if scale >= 1.0 else {**params, "pattern_scale": scale}
