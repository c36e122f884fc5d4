"""What one run reads and writes on the image, worked out once for the dialog's preview pane and for the
dream itself (GIMP-dependent, main thread only)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gi

gi.require_version("Gimp", "3.0")
from gi.repository import Gimp  # noqa: E402

from reverie_plugin import arguments, canvas, geometry, messages  # noqa: E402
from reverie_plugin.formats import WireFormat  # noqa: E402
from reverie_plugin.messages import PluginFailure  # noqa: E402


def selected_rect(image: Gimp.Image, drawable: Gimp.Drawable) -> geometry.Rect | None:
    """The selection ∩ drawable in drawable coordinates; None when nothing is selected."""
    if Gimp.Selection.is_empty(image):
        return None
    ok, x, y, width, height = drawable.mask_intersect()
    if not ok:
        raise PluginFailure(messages.selection_misses_text())
    return geometry.Rect(x, y, width, height)


def values_of(
    config: Gimp.ProcedureConfig, declared: tuple[arguments.Argument, ...] = arguments.ARGUMENTS
) -> dict[str, Any]:
    """The declared arguments' values, whichever way they were set (dialog, script, last values)."""
    return {a.name: config.get_property(a.name) for a in declared}


@dataclass(frozen=True)
class Plan:
    """``region``: what the full run dreams; ``shown``: what this run places (a preview's crop, or the region);
    ``sent``: what goes to the server (``shown`` with context around a preview's crop). Drawable coordinates."""

    drawable: Gimp.Drawable
    region: geometry.Rect
    shown: geometry.Rect
    sent: geometry.Rect
    wire: WireFormat
    masked: bool
    preview: bool

    @property
    def covers_region(self) -> bool:
        """Whether this run dreams exactly what the full run would (a preview of a small region does)."""
        return self.shown == self.region and self.sent == self.region


def single_layer(drawables: list[Gimp.Drawable]) -> Gimp.Drawable:
    """The one layer a run dreams; a failure says what to select instead."""
    if len(drawables) != 1:
        raise PluginFailure(messages.one_drawable_text(len(drawables)))
    if not drawables[0].is_layer():
        raise PluginFailure(messages.not_a_layer_text())
    return drawables[0]


def plan_run(
    image: Gimp.Image, drawables: list[Gimp.Drawable], preview: bool, focus: geometry.Rect | None = None
) -> Plan:
    """Where a run (a preview or the full dream) reads and writes; a failure says what to change. A preview's
    crop is centred on ``focus`` (where the artist dragged it), else on the selection."""
    drawable = single_layer(drawables)
    selected = selected_rect(image, drawable)
    region = geometry.dream_region(drawable.get_width(), drawable.get_height(), selected)
    # A preview shows a crop of what the full run dreams, dreamed the same way, with context around it.
    shown = geometry.preview_crop(region, focus or selected) if preview else region
    sent = geometry.with_context(shown, region) if preview else region
    return Plan(drawable, region, shown, sent, canvas.layer_wire(drawable), selected is not None, preview)
