"""Helpers the e2e tests' batch code uses inside GIMP (GIMP's own Python: gi, no NumPy, no pytest).

The harness copies this file into the test's workspace and runs ``exec`` code that imports it. Each
run records values and raw pixel buffers into one folder; the host side loads and checks them.
"""

from __future__ import annotations

import json
import struct
import time
from pathlib import Path
from typing import Any

import gi

gi.require_version("Gimp", "3.0")
gi.require_version("Gegl", "0.4")
gi.require_version("Babl", "0.1")
from gi.repository import Babl, Gegl, Gimp, Gio  # noqa: E402, F401 (Babl, Gio: for the tests' batch code)
from server_idle import server_idle_at  # noqa: E402, F401 (for the tests' batch code)

PROCEDURE = "python-fu-reverie-dream"
PRECISIONS = {
    "u8": Gimp.Precision.U8_NON_LINEAR,
    "u16": Gimp.Precision.U16_NON_LINEAR,
    "f32": Gimp.Precision.FLOAT_NON_LINEAR,
}
BASE_TYPES = {"rgb": Gimp.ImageBaseType.RGB, "gray": Gimp.ImageBaseType.GRAY}
LAYER_TYPES = {
    ("rgb", True): Gimp.ImageType.RGBA_IMAGE,
    ("rgb", False): Gimp.ImageType.RGB_IMAGE,
    ("gray", True): Gimp.ImageType.GRAYA_IMAGE,
    ("gray", False): Gimp.ImageType.GRAY_IMAGE,
}


TILE = (97, 89)  # primes, so the repeat never lines up with octaves or tiles


def pattern(width: int, height: int) -> bytes:
    """RGBA float pixels: smooth colour, fine detail and a never-constant alpha, tiled so big images are quick."""
    tile_width, tile_height = TILE
    rows = []
    for y in range(tile_height):
        values = []
        for x in range(tile_width):
            values += [
                (x * 7 + y * 3) % 256 / 255.0 + 0.0001 * (x % 3),
                (x * 2 + y * 11) % 256 / 255.0,
                ((x ^ y) * 5) % 256 / 255.0,
                0.2 + 0.8 * ((x * 5 + y * 7) % 97) / 96.0,
            ]
        row = struct.pack(f"<{len(values)}f", *values)
        rows.append((row * (width // tile_width + 1))[: width * 16])
    return b"".join(rows[y % tile_height] for y in range(height))


def new_image(
    width: int,
    height: int,
    base: str = "rgb",
    precision: str = "u8",
    alpha: bool = True,
    layer_rect: tuple[int, int, int, int] | None = None,
) -> tuple[Gimp.Image, Gimp.Layer]:
    """An image with one patterned layer, optionally smaller than the image and offset."""
    image = Gimp.Image.new_with_precision(width, height, BASE_TYPES[base], PRECISIONS[precision])
    x, y, w, h = layer_rect or (0, 0, width, height)
    layer = Gimp.Layer.new(image, "artwork", w, h, LAYER_TYPES[(base, alpha)], 100.0, Gimp.LayerMode.NORMAL)
    image.insert_layer(layer, None, 0)
    layer.set_offsets(x, y)
    buffer = layer.get_buffer()
    buffer.set(Gegl.Rectangle.new(0, 0, w, h), "R'G'B'A float", pattern(w, h))
    buffer.flush()
    return image, layer


def dream(image: Gimp.Image, layer: Gimp.Layer, **values: Any) -> dict[str, Any]:
    """Call the plug-in the way a script does; returns status, message or seed, and the layer."""
    procedure = Gimp.get_pdb().lookup_procedure(PROCEDURE)
    if procedure is None:
        raise RuntimeError(f"{PROCEDURE} is not registered: the plug-in did not load")
    config = procedure.create_config()
    config.set_property("image", image)
    config.set_core_object_array("drawables", [layer])
    for name, value in values.items():
        config.set_property(name.replace("_", "-"), value)
    started = time.monotonic()
    result = procedure.run(config)
    seconds = time.monotonic() - started
    status = result.index(0).value_nick
    if status != "success":
        return {"status": status, "message": result.index(1), "seconds": seconds}
    return {"status": status, "seed": result.index(1), "layer": result.index(2), "seconds": seconds}


def wait_for_layers(image: Gimp.Image, names: list[str], timeout: float = 60.0) -> list[str]:
    """Poll the layer stack (top first) until it is ``names`` or ``timeout`` passes; returns the last seen.

    For steps a person takes in GIMP's window (xdotool), which the batch cannot be told about.
    """
    deadline = time.monotonic() + timeout
    while (seen := [layer.get_name() for layer in image.get_layers()]) != names and time.monotonic() < deadline:
        time.sleep(0.05)
    return seen


def write_source(folder: str, layer: Gimp.Layer, then: list[str], endpoint: str = "", until_done: bool = False) -> None:
    """The layer's pixels as the preview pane shows them (8-bit RGB) for pane_watch.py, the keys it presses
    once the pane has changed, the server it then waits to see idle (none when empty), and whether it waits
    until the preview is done."""
    width, height = layer.get_width(), layer.get_height()
    rect = Gegl.Rectangle.new(0, 0, width, height)
    data = layer.get_buffer().get(rect, 1.0, "R'G'B' u8", Gegl.AbyssPolicy.CLAMP)
    (Path(folder) / "source.rgb").write_bytes(data)
    meta = {"width": width, "height": height, "title": "^Deep Dream$", "then": then, "endpoint": endpoint}
    meta["until_done"] = until_done
    (Path(folder) / "source.json").write_text(json.dumps(meta))


class Recorder:
    """Collects values and pixel buffers; ``save`` writes them for the host to read."""

    def __init__(self, folder: str) -> None:
        self.folder = Path(folder)
        self.values: dict[str, Any] = {}
        self.buffers: dict[str, dict[str, Any]] = {}

    def value(self, name: str, value: Any) -> None:
        """A JSON-able value."""
        self.values[name] = value

    def pixels(self, name: str, drawable: Gimp.Drawable, babl: str) -> None:
        """The drawable's whole buffer in ``babl`` (e.g. "R'G'B'A float"), with its geometry."""
        width, height = drawable.get_width(), drawable.get_height()
        data = drawable.get_buffer().get(Gegl.Rectangle.new(0, 0, width, height), 1.0, babl, Gegl.AbyssPolicy.NONE)
        (self.folder / f"{name}.raw").write_bytes(data)
        offsets = drawable.get_offsets()
        self.buffers[name] = {
            "width": width,
            "height": height,
            "format": babl,
            "offsets": [offsets.offset_x, offsets.offset_y],
        }

    def layers(self, name: str, image: Gimp.Image) -> None:
        """The layer stack, top first: names, offsets, sizes, types, masks."""
        stack = []
        for layer in image.get_layers():
            offsets = layer.get_offsets()
            stack.append(
                {
                    "name": layer.get_name(),
                    "offsets": [offsets.offset_x, offsets.offset_y],
                    "size": [layer.get_width(), layer.get_height()],
                    "type": layer.type().value_nick,
                    "mask": layer.get_mask() is not None,
                }
            )
        self.values[name] = stack

    def composite(self, name: str, image: Gimp.Image, babl: str) -> None:
        """What the artist sees: the visible layers merged (on a duplicate, the image stays as it is)."""
        copy = image.duplicate()
        merged = copy.merge_visible_layers(Gimp.MergeType.CLIP_TO_IMAGE)
        merged.resize_to_image_size()
        self.pixels(name, merged, babl)
        copy.delete()

    def save(self) -> None:
        """Write record.json; the host reads it with gimp_harness.load_record."""
        document = {"values": self.values, "buffers": self.buffers}
        (self.folder / "record.json").write_text(json.dumps(document, default=str))
