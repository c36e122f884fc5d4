"""Deep Dream Frames in a real GIMP 3: an image whose layers are the frames of a moving picture (as GIMP opens
a GIF) becomes a new image of dreamed frames, each keeping its timing; its dialog fits a 1366×768 screen."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from gimp_harness import COMMAND_STEP, Record, Workspace, shown_window
from PIL import Image

pytestmark = pytest.mark.gimp

WIDTH, HEIGHT, FRAMES = 96, 80, 3
# Each frame is one patterned layer larger than the image, moved 3 px left and 2 up a frame: the picture moves.
CLIP = (
    f"image = g.Gimp.Image.new_with_precision({WIDTH}, {HEIGHT}, g.Gimp.ImageBaseType.RGB, "
    "g.Gimp.Precision.U8_NON_LINEAR)\n"
    f"for index in range({FRAMES}):\n"
    f"    layer = g.Gimp.Layer.new(image, f'Frame {{index + 1}} (80ms)', {WIDTH + 20}, {HEIGHT + 20}, "
    "g.Gimp.ImageType.RGBA_IMAGE, 100.0, g.Gimp.LayerMode.NORMAL)\n"
    "    image.insert_layer(layer, None, 0)\n"
    "    layer.set_offsets(-3 * index, -2 * index)\n"
    f"    layer.get_buffer().set(g.Gegl.Rectangle.new(0, 0, {WIDTH + 20}, {HEIGHT + 20}), \"R'G'B'A float\", "
    f"g.pattern({WIDTH + 20}, {HEIGHT + 20}))\n"
    "    layer.get_buffer().flush()\n"
)


def frames_run(endpoint: str, run_mode: str = "NONINTERACTIVE") -> str:
    return (
        "procedure = g.Gimp.get_pdb().lookup_procedure('python-fu-reverie-frames')\n"
        "rec.value('menu', [procedure.get_menu_label(), list(procedure.get_menu_paths())])\n"
        "config = procedure.create_config()\n"
        "config.set_property('image', image)\n"
        "config.set_core_object_array('drawables', [image.get_layers()[0]])\n"
        f"for name, value in dict(endpoint={endpoint!r}, model='mobilenet', octaves=2, steps=2, seed=9).items():\n"
        "    config.set_property(name, value)\n"
        f"config.set_property('run-mode', g.Gimp.RunMode.{run_mode})\n"
        "result = procedure.run(config)\n"
        "rec.value('status', result.index(0).value_nick)\n"
    )


def test_an_image_of_frames_becomes_a_new_image_of_dreamed_frames(
    run_gimp: Callable[..., Record], endpoint: str
) -> None:
    record = run_gimp(
        CLIP + "for index, layer in enumerate(reversed(image.get_layers())):\n"
        "    copy = layer.copy(); image.insert_layer(copy, None, 0)\n"
        f"    copy.resize({WIDTH}, {HEIGHT}, *layer.get_offsets()[1:])\n"  # the frame as the image shows it
        "    rec.pixels(f'source{index + 1}', copy, \"R'G'B'A u8\"); image.remove_layer(copy)\n"
        + frames_run(endpoint)
        + "rec.value('message', result.index(1) if result.index(0).value_nick != 'success' else None)\n"
        "animation = result.index(1)\n"
        "rec.layers('frames', animation)\n"
        "rec.layers('sources', image)\n"
        "rec.value('size', [animation.get_width(), animation.get_height()])\n"
        "rec.value('images', len(g.Gimp.get_images()))\n"
        "rec.value('undo', animation.undo_is_enabled())\n"
        "for index, frame in enumerate(reversed(animation.get_layers())):\n"
        "    rec.pixels(f'frame{index + 1}', frame, \"R'G'B'A u8\")\n"
    )
    values = record.values
    assert values["status"] == "success", values["message"]
    assert values["menu"] == ["Deep Dream _Frames…", ["<Image>/Filters/Artistic"]]
    assert [entry["name"] for entry in values["frames"]] == [f"Frame {n} (80ms)" for n in range(FRAMES, 0, -1)]
    assert len(values["sources"]) == FRAMES  # the source image is as it was
    assert values["size"] == [WIDTH, HEIGHT] and values["images"] == 2 and values["undo"]
    sources = [record.pixels[f"source{n}"].astype(int) for n in range(1, FRAMES + 1)]
    frames = [record.pixels[f"frame{n}"].astype(int) for n in range(1, FRAMES + 1)]
    for source, frame in zip(sources, frames, strict=True):
        assert frame.shape == (HEIGHT, WIDTH, 4)
        assert np.abs(frame[..., :3] - source[..., :3]).mean() > 1  # dreamed
        assert np.array_equal(frame[..., 3], source[..., 3])  # alpha kept
    assert not np.array_equal(frames[1], frames[2])


DIALOG = "^Deep Dream Frames$"
SCREEN = "1366x768"
# Run beside GIMP (its Python, gi): the whole screen as a PNG, once the dialog is up.
SCREENSHOT = """
import sys
import gi
gi.require_version("Gdk", "3.0")
from gi.repository import Gdk
root = Gdk.get_default_root_window()
Gdk.pixbuf_get_from_window(root, 0, 0, root.get_width(), root.get_height()).savev(sys.argv[1], "png", [], [])
"""


def test_the_frames_dialog_fits_a_small_screen(
    run_gimp_ui: Callable[..., Record], endpoint: str, work: Workspace
) -> None:
    geometry, shot, script = work.inside / "geometry.txt", work.inside / "dialog.png", work.inside / "shot.py"
    (work.host / "shot.py").write_text(SCREENSHOT)
    measure = (
        f"w=$({shown_window(DIALOG)}); xdotool mousemove 1365 767; "
        f"xdotool getwindowgeometry --shell $w > {geometry}; python3 {script} {shot}"
    )
    record = run_gimp_ui(
        CLIP + "g.Gimp.Display.new(image)\n" + frames_run(endpoint, "INTERACTIVE"),
        [(COMMAND_STEP, measure), (DIALOG, "alt+c")],
        screen=SCREEN,
    )
    assert record.values["status"] == "cancel"
    shell = dict(line.split("=", 1) for line in (work.host / "geometry.txt").read_text().split())
    x, y, w, h = (int(shell[key]) for key in ("X", "Y", "WIDTH", "HEIGHT"))
    print(f"{SCREEN}: the Deep Dream Frames dialog is {w}×{h} at ({x}, {y})")
    assert x >= 0 and y >= 0 and x + w <= 1366 and y + h <= 768, (x, y, w, h)
    with Image.open(work.host / "dialog.png") as picture:
        assert picture.size == (1366, 768)
    assert "duplicate mnemonic" not in record.output and "LibGimpWidgets-CRITICAL" not in record.output
