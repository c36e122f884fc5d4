"""Deep Dream Zoom's frames in GIMP: a new image, one layer per frame, each frame zoomed from the last.

GIMP-dependent (``gi``), main thread only. The plug-in's Python has no NumPy, so the zoom is GIMP's own
transform (cubic) of a copy of the last frame, read back at the image's size.
"""

from __future__ import annotations

import math

import gi

gi.require_version("Gimp", "3.0")
gi.require_version("Gegl", "0.4")
from gi.repository import Gegl, Gimp  # noqa: E402

from reverie_plugin.formats import WireFormat  # noqa: E402
from reverie_plugin.geometry import Rect  # noqa: E402
from reverie_plugin.layer_names import FRAME_MS, frame_layer_name  # noqa: E402

_LAYER_TYPES = {
    1: Gimp.ImageType.GRAY_IMAGE,
    2: Gimp.ImageType.GRAYA_IMAGE,
    3: Gimp.ImageType.RGB_IMAGE,
    4: Gimp.ImageType.RGBA_IMAGE,
}


def new_animation(width: int, height: int, wire: WireFormat) -> Gimp.Image:
    """An empty image for frames travelling in ``wire``: grey or RGB, 8-bit or float."""
    base = Gimp.ImageBaseType.GRAY if wire.channels <= 2 else Gimp.ImageBaseType.RGB
    precision = Gimp.Precision.U8_NON_LINEAR if wire.dtype == "u8" else Gimp.Precision.FLOAT_NON_LINEAR
    return Gimp.Image.new_with_precision(width, height, base, precision)


def add_frame(animation: Gimp.Image, index: int, pixels: bytes, wire: WireFormat, ms: int = FRAME_MS) -> Gimp.Layer:
    """Frame ``index`` (from 1) as the new top layer, named "Frame N (100ms)" (shown ``ms``)."""
    width, height = animation.get_width(), animation.get_height()
    layer = Gimp.Layer.new(
        animation, frame_layer_name(index, ms), width, height, _LAYER_TYPES[wire.channels], 100.0, Gimp.LayerMode.NORMAL
    )
    animation.insert_layer(layer, None, 0)
    buffer = layer.get_buffer()
    buffer.set(Gegl.Rectangle.new(0, 0, width, height), wire.babl, pixels)
    buffer.flush()
    layer.update(0, 0, width, height)
    return layer


def zoomed_copy(animation: Gimp.Image, frame: Gimp.Layer, zoom: float, turn: float) -> tuple[Gimp.Layer, Rect]:
    """A copy of ``frame`` enlarged ``zoom`` times and turned ``turn`` degrees anticlockwise about the centre,
    and the rectangle (in its own coordinates) that covers the image: what the next frame dreams. The caller
    removes the copy."""
    width, height = animation.get_width(), animation.get_height()
    Gimp.context_push()
    try:
        Gimp.context_set_interpolation(Gimp.InterpolationType.CUBIC)
        Gimp.context_set_transform_resize(Gimp.TransformResize.ADJUST)
        copy = frame.copy()
        animation.insert_layer(copy, None, 0)
        half_width, half_height = width * zoom / 2, height * zoom / 2
        copy = copy.transform_scale(
            width / 2 - half_width, height / 2 - half_height, width / 2 + half_width, height / 2 + half_height
        )
        if turn:
            copy = copy.transform_rotate(-math.radians(turn), True, 0.0, 0.0)
    finally:
        Gimp.context_pop()
    _, x, y = copy.get_offsets()
    return copy, Rect(-x, -y, width, height)
