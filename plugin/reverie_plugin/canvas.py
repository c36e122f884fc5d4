"""The plug-in's only contact with the image: read a region's pixels, place a result layer.

GIMP-dependent (``gi``), main thread only. Every edit happens in one undo group inside a context
push/pop, after the dream has arrived, so a failed run leaves the image as it was.
"""

from __future__ import annotations

import json
from typing import Any

import gi

gi.require_version("Gimp", "3.0")
gi.require_version("Gegl", "0.4")
from gi.repository import Gegl, Gimp  # noqa: E402

from reverie_plugin.formats import WireFormat, wire_format  # noqa: E402
from reverie_plugin.geometry import Rect  # noqa: E402
from reverie_plugin.layer_names import RESULT_NAME, dream_layer_name  # noqa: E402

# Marks preview layers, so replacing one never touches an artist's layer that happens to share the name.
PREVIEW_PARASITE = "reverie-dream-preview"
# What made a dream layer (params, seed, timings), saved with the XCF so a dream can be repeated.
DETAILS_PARASITE = "reverie-dream"


def layer_details(
    params: dict[str, Any],
    endpoint: str,
    result: Any,
    read_seconds: float,
    round_trip_seconds: float,
    settings: dict[str, Any] | None = None,
    server: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """What goes with a dream layer (its parasite): params, seed, timings, notes, and how far a stopped dream got;
    the dialog's ``settings`` and the ``server``'s identity, so the layer can be dreamed again
    (``dream_again``)."""
    details = {
        "settings": settings or {},
        "server": server or {},
        "params": params,
        "seed": result.seed,
        "endpoint": endpoint,
        "read_seconds": read_seconds,
        "round_trip_seconds": round_trip_seconds,
        "server_seconds": result.seconds,
        "engine_seconds": result.engine_seconds,
        "notes": result.notes,
    }
    if result.partial is not None:
        details["partial"] = result.partial
    return details


def read_pixels(drawable: Gimp.Drawable, region: Rect, wire: WireFormat, scale: float = 1.0) -> bytes:
    """The region's pixels in ``wire``'s format; with ``scale`` below 1, shrunk (``region`` is then in the
    shrunk drawable's pixels)."""
    rect = Gegl.Rectangle.new(region.x, region.y, region.width, region.height)
    return drawable.get_buffer().get(rect, scale, wire.babl, Gegl.AbyssPolicy.CLAMP)


def layer_wire(drawable: Gimp.Drawable) -> WireFormat:
    """How the drawable's pixels travel: its image's base type and precision, its alpha."""
    image = drawable.get_image()
    return wire_format(image.get_base_type().value_nick, drawable.has_alpha(), image.get_precision().value_nick)


def read_guide(layer: Gimp.Layer | None) -> tuple[bytes, int, int, int, str] | None:
    """A guide layer's pixels (the whole layer, in its own image's format), width, height, channels and
    sample type, as ``Image`` takes them; None for no guide."""
    if layer is None:
        return None
    wire = layer_wire(layer)
    width, height = layer.get_width(), layer.get_height()
    return read_pixels(layer, Rect(0, 0, width, height), wire), width, height, wire.channels, wire.dtype


def read_strength(
    channel: Gimp.Drawable | None, drawable: Gimp.Drawable, region: Rect
) -> tuple[bytes, int, int, int, str] | None:
    """A channel's or layer mask's grey values over ``region`` of ``drawable`` (whose coordinates it is in),
    one u8 channel as ``Image`` takes it; None for no strength map. A channel covers the image, a mask
    its layer: their offsets place the region in it, and past its edges its nearest values go on."""
    if channel is None:
        return None
    dx, dy = drawable.get_offsets()[1:]
    cx, cy = channel.get_offsets()[1:]
    rect = Gegl.Rectangle.new(region.x + dx - cx, region.y + dy - cy, region.width, region.height)
    data = channel.get_buffer().get(rect, 1.0, "Y u8", Gegl.AbyssPolicy.CLAMP)
    return data, region.width, region.height, 1, "u8"


def _layers(container: list[Gimp.Layer]) -> list[Gimp.Layer]:
    """Every layer in ``container``, group members included."""
    found = []
    for layer in container:
        found.append(layer)
        if layer.is_group_layer():
            found.extend(_layers(layer.get_children()))
    return found


def preview_layers(image: Gimp.Image) -> list[Gimp.Layer]:
    """Every preview layer an earlier run left in the image, at any depth."""
    return [layer for layer in _layers(image.get_layers()) if layer.get_parasite(PREVIEW_PARASITE)]


def _held_by_another(image: Gimp.Image, name: str, layer: Gimp.Layer) -> bool:
    """Whether a layer other than ``layer`` has ``name``."""
    holder = image.get_layer_by_name(name)
    return holder is not None and holder.get_id() != layer.get_id()


def place_layer(
    image: Gimp.Image,
    drawable: Gimp.Drawable,
    region: Rect,
    wire: WireFormat,
    pixels: bytes,
    masked: bool,
    preview: bool,
    details: dict[str, Any],
) -> Gimp.Layer:
    """Insert the dream (``region``'s size) above ``drawable`` at ``region`` (drawable coordinates), masked
    by the selection, named with its seed.

    ``details`` (params, seed, timings) go with the layer as a persistent parasite. Earlier
    previews are removed in the same undo step (last, so a failure leaves them), and one Ctrl+Z
    brings back exactly what was there.
    """
    Gimp.context_push()
    image.undo_group_start()
    earlier_previews = preview_layers(image)
    inserted = False
    try:
        width, height = region.width, region.height
        layer = Gimp.Layer.new(
            image,
            RESULT_NAME,  # named below, once earlier previews no longer hold its name
            width,
            height,
            drawable.type_with_alpha(),
            100.0,
            Gimp.LayerMode.NORMAL,
        )
        image.insert_layer(layer, drawable.get_parent(), image.get_item_position(drawable))
        inserted = True
        buffer = layer.get_buffer()
        buffer.set(Gegl.Rectangle.new(0, 0, width, height), wire.babl, pixels)
        buffer.flush()
        dx, dy = drawable.get_offsets()[1:]
        layer.set_offsets(region.x + dx, region.y + dy)
        # The layer dreamed, so that dreaming this layer again dreams that one (``recall``).
        source = {"id": drawable.get_id(), "name": drawable.get_name()}
        layer.attach_parasite(
            Gimp.Parasite.new(
                DETAILS_PARASITE, Gimp.PARASITE_PERSISTENT, json.dumps({**details, "source": source}).encode()
            )
        )
        if preview:
            layer.attach_parasite(Gimp.Parasite.new(PREVIEW_PARASITE, Gimp.PARASITE_PERSISTENT, b"1"))
        if masked:
            layer.add_mask(layer.create_mask(Gimp.AddMaskType.SELECTION))
        layer.update(0, 0, width, height)
        for old in earlier_previews:
            image.remove_layer(old)
        layer.set_name(dream_layer_name(details["seed"], preview, lambda name: _held_by_another(image, name, layer)))
    except BaseException:
        if inserted:
            image.remove_layer(layer)
        raise
    finally:
        image.undo_group_end()
        Gimp.context_pop()
    return layer
