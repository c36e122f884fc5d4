"""Dream again, GIMP's side: a "Deep Dream #…" layer's parasite gives back the settings it was made with and
the layer it was dreamed from (main thread only; the pure part is ``dream_again``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import gi

gi.require_version("Gimp", "3.0")
from gi.repository import Gimp  # noqa: E402

from reverie_plugin import arguments, canvas, dream_again  # noqa: E402


@dataclass(frozen=True)
class Recalled:
    """A dream layer chosen to dream again: its name, the layer it was dreamed from (None when that is gone),
    and its parasite's details (``settings``, ``server``, ``params`` …)."""

    dream: str
    source: Gimp.Layer | None
    details: dict[str, Any]

    @property
    def server(self) -> dict[str, Any]:
        return self.details.get("server") or {}


def recall(image: Gimp.Image, drawables: list[Gimp.Drawable]) -> Recalled | None:
    """The dream layer the artist chose, if it is one (a preview layer is not), else None."""
    if len(drawables) != 1 or not drawables[0].is_layer():
        return None
    layer = drawables[0]
    parasite = layer.get_parasite(canvas.DETAILS_PARASITE)
    if parasite is None or layer.get_parasite(canvas.PREVIEW_PARASITE) is not None:
        return None
    details = json.loads(bytes(parasite.get_data()).decode())
    return Recalled(layer.get_name(), _source(image, details.get("source") or {}), details)


def _source(image: Gimp.Image, source: dict[str, Any]) -> Gimp.Layer | None:
    """The layer a dream was dreamed from: by its id while GIMP runs, by its name after the XCF was reopened."""
    item = Gimp.Item.get_by_id(source["id"]) if "id" in source else None
    if item is not None and item.is_layer() and item.get_image().get_id() == image.get_id():
        return item
    return image.get_layer_by_name(source["name"]) if "name" in source else None


def restore(config: Gimp.ProcedureConfig, recalled: Recalled, image: Gimp.Image) -> None:
    """Set the procedure's values to the dream's settings (its guide and strength channel by name, when the image
    still has them)."""
    names = tuple(argument.name for argument in arguments.ARGUMENTS)
    for name, value in dream_again.restorable(recalled.details, names).items():
        config.set_property(name, value)
    recorded = recalled.details.get("settings") or {}
    guide, strength = recorded.get("guide"), recorded.get("strength")
    config.set_property("guide", image.get_layer_by_name(guide) if guide else None)
    config.set_property("strength", image.get_channel_by_name(strength) if strength else None)
