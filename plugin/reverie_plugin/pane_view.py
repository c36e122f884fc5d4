"""The preview pane's geometry: where the region and the preview's crop show in the pane, at 1:1 or fitted,
and where a drag moves the crop. Pure arithmetic (no GIMP, no GTK), so it is tested on its own.

Region and crop are in drawable pixels; the view's rectangles in pane pixels.
"""

from __future__ import annotations

from reverie_plugin.geometry import Rect, preview_crop


def fit_scale(region: Rect, view_width: int, view_height: int) -> float:
    """The scale that shows the whole region in the view (never enlarging it)."""
    return min(1.0, view_width / region.width, view_height / region.height)


def region_origin(
    region: Rect, crop: Rect, fitted: bool, scale: float, view_width: int, view_height: int
) -> tuple[int, int]:
    """Where the region's top-left corner lies in the view: at 1:1 the crop is centred in the view, fitted
    (at ``scale``) the region is."""
    if not fitted:
        return (
            view_width // 2 - (crop.x - region.x) - crop.width // 2,
            view_height // 2 - (crop.y - region.y) - crop.height // 2,
        )
    return round((view_width - region.width * scale) / 2), round((view_height - region.height * scale) / 2)


def in_view(rect: Rect, region: Rect, origin: tuple[int, int], scale: float) -> Rect:
    """``rect`` (drawable pixels, inside the region) as the view shows it."""
    left = origin[0] + round((rect.x - region.x) * scale)
    top = origin[1] + round((rect.y - region.y) * scale)
    right = origin[0] + round((rect.x + rect.width - region.x) * scale)
    bottom = origin[1] + round((rect.y + rect.height - region.y) * scale)
    return Rect(left, top, right - left, bottom - top)


def clipped(rect: Rect, view_width: int, view_height: int) -> Rect | None:
    """The part of ``rect`` inside the view, or None when none is."""
    left, top = max(0, rect.x), max(0, rect.y)
    right, bottom = min(view_width, rect.x + rect.width), min(view_height, rect.y + rect.height)
    if right <= left or bottom <= top:
        return None
    return Rect(left, top, right - left, bottom - top)


def dragged_crop(region: Rect, crop: Rect, dx: int, dy: int, fitted: bool, scale: float) -> Rect:
    """The crop after a drag of (dx, dy) view pixels, kept inside the region. At 1:1 the picture moves with the
    pointer under the centred crop (so the crop moves the other way); fitted, the crop's frame follows the
    pointer over the still picture."""
    if not fitted:
        moved_x, moved_y = -dx, -dy
    else:
        moved_x, moved_y = round(dx / scale), round(dy / scale)
    return preview_crop(region, Rect(crop.x + moved_x, crop.y + moved_y, crop.width, crop.height))
