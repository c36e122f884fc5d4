"""The plug-in in a real GIMP 3 with its UI (on Xvfb), driven by key presses as an artist would: the
dialog's OK and Preview, and Ctrl+Z in the image window.

GIMP checks every label's mnemonic against the others and its own buttons when it builds the dialog
and complains on stderr; the run's output must hold no such complaint and no widget assertion.
"""

from __future__ import annotations

import json
import shlex
import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from dream_server import REVERIE
from gimp_harness import COMMAND_STEP, Record, Workspace, shown_window
from PIL import Image

pytestmark = pytest.mark.gimp

DIALOG = "^Deep Dream$"
SETUP = (
    "image, layer = g.new_image(160, 120)\n"
    "g.Gimp.Display.new(image)\n"
    "image.select_rectangle(g.Gimp.ChannelOps.REPLACE, 30, 20, 90, 70)\n"
)


def snapshot_artwork(name: str) -> str:
    """Batch code recording the artwork layer's pixels under ``name``."""
    return f"rec.pixels({name!r}, layer, \"R'G'B'A u8\")\n"


def interactive(endpoint: str, seed: int = 21, preview: bool = False) -> str:
    return (
        SETUP + f"out = g.dream(image, layer, run_mode=g.Gimp.RunMode.INTERACTIVE, seed={seed}, endpoint={endpoint!r}, "
        f"model='mobilenet', octaves=1, steps=2, preview={preview})\n"
        "rec.value('status', out['status']); rec.value('message', out.get('message'))\n"
        "rec.value('seed', out.get('seed'))\n"
        "rec.layers('after', image)\n"
    )


def assert_clean_dialog(record: Record) -> None:
    assert "duplicate mnemonic" not in record.output
    assert "LibGimpWidgets-CRITICAL" not in record.output


def test_ok_dreams_with_the_dialogs_values(run_gimp_ui: Callable[..., Record], endpoint: str) -> None:
    # The dialog has no preview switch: OK dreams in full even where a script left "preview" on.
    record = run_gimp_ui(interactive(endpoint, preview=True), [(DIALOG, "alt+o")])
    assert record.values["status"] == "success", record.values["message"]
    assert [entry["name"] for entry in record.values["after"]] == ["Deep Dream #21", "artwork"]
    assert_clean_dialog(record)


def test_a_successful_dream_shows_no_message_and_names_its_seed(
    run_gimp_ui: Callable[..., Record], endpoint: str
) -> None:
    # Messages go to the console (GIMP's output) instead of a message box; the probe shows that they arrive.
    capture = "g.Gimp.message_set_handler(g.Gimp.MessageHandlerType.CONSOLE)\ng.Gimp.message('message probe')\n"
    record = run_gimp_ui(capture + interactive(endpoint, seed=0), [(DIALOG, "alt+o")])
    assert record.values["status"] == "success", record.values["message"]
    messages = [line for line in record.output.splitlines() if "-Warning: " in line and "Welcome to GIMP" not in line]
    assert len(messages) == 1 and messages[0].endswith("message probe"), messages
    seed = record.values["seed"]
    assert seed and [entry["name"] for entry in record.values["after"]] == [f"Deep Dream #{seed}", "artwork"]


def test_one_undo_removes_the_dream_and_brings_back_the_preview(
    run_gimp_ui: Callable[..., Record], endpoint: str
) -> None:
    fast = f"endpoint={endpoint!r}, model='mobilenet', octaves=1, steps=2"
    record = run_gimp_ui(
        SETUP + snapshot_artwork("before") + f"preview = g.dream(image, layer, preview=True, seed=4, {fast})\n"
        f"full = g.dream(image, layer, seed=4, {fast})\n"
        "rec.value('statuses', [preview['status'], full['status']])\n"
        "rec.layers('dreamed', image)\n"
        # The new title tells xdotool the dream is there; it then presses Ctrl+Z in the image window.
        "image.set_file(g.Gio.File.new_for_path('/tmp/dreamed.xcf'))\n"
        "g.Gimp.displays_flush()\n"
        "rec.value('undone', g.wait_for_layers(image, ['Deep Dream preview #4', 'artwork']))\n"
        + snapshot_artwork("after"),
        [("dreamed", "ctrl+z")],
    )
    assert record.values["statuses"] == ["success", "success"]
    assert [entry["name"] for entry in record.values["dreamed"]] == ["Deep Dream #4", "artwork"]
    assert record.values["undone"] == ["Deep Dream preview #4", "artwork"]
    assert (record.pixels["after"] == record.pixels["before"]).all()


@pytest.mark.parametrize("screen", ["1366x768", "1920x1080"])
def test_the_dialog_and_its_buttons_lie_inside_the_screen(
    run_gimp_ui: Callable[..., Record], endpoint: str, work: Workspace, screen: str
) -> None:
    # The plug-in writes its GTK layout once shown (REVERIE_LAYOUT_REPORT); xdotool reads the window's X geometry.
    report, geometry = work.inside / "layout.json", work.inside / "geometry.txt"
    measure = (
        f"w=$({shown_window(DIALOG)}); "
        f"while [ ! -s {report} ]; do sleep 0.05; done; xdotool getwindowgeometry --shell $w > {geometry}"
    )
    # The case: a 2048×1536 photo with an elliptical selection, so the pane holds a 512×512 crop.
    photo = (
        "image, layer = g.new_image(2048, 1536)\n"
        "g.Gimp.Display.new(image)\n"
        "image.select_ellipse(g.Gimp.ChannelOps.REPLACE, 600, 400, 800, 700)\n"
        f"out = g.dream(image, layer, run_mode=g.Gimp.RunMode.INTERACTIVE, endpoint={endpoint!r})\n"
        "rec.value('status', out['status'])\n"
    )
    record = run_gimp_ui(
        photo,
        [(COMMAND_STEP, measure), (DIALOG, "alt+c")],
        screen=screen,
        extra_env={"REVERIE_LAYOUT_REPORT": str(report)},
    )
    assert record.values["status"] == "cancel"
    layout = json.loads((work.host / "layout.json").read_text())
    shell = dict(line.split("=", 1) for line in (work.host / "geometry.txt").read_text().split())
    width, height = (int(side) for side in screen.split("x"))
    x, y, w, h = (int(shell[key]) for key in ("X", "Y", "WIDTH", "HEIGHT"))
    print(f"{screen}: the dialog is {w}×{h} at ({x}, {y}); GTK: {layout['window']}")
    assert w <= 1280 and h <= 720, (w, h)
    assert inside([x, y, w, h], width, height) and inside(layout["window"], width, height), (x, y, w, h, layout)
    for label in ("_OK", "_Cancel", "Previe_w", "Stop and _keep", "Copy as command", "Browse channels…"):
        assert label in layout["buttons"], layout["buttons"]
    for label, rect in layout["buttons"].items():
        assert inside(rect, width, height), (label, rect)
    assert_clean_dialog(record)


def inside(rect: list[int], width: int, height: int) -> bool:
    """Whether [x, y, w, h] lies wholly on a ``width``×``height`` screen."""
    x, y, w, h = rect
    return x >= 0 and y >= 0 and x + w <= width and y + h <= height


# Run beside GIMP (its Python, gi): click a dialog button where the layout report puts it, then write the
# clipboard's text to a file.
CLICK_AND_READ_CLIPBOARD = """
import json, subprocess, sys, time
import gi
gi.require_version("Gtk", "3.0")
from gi.repository import Gdk, Gtk
report, label, out = sys.argv[1:]
while True:
    try:
        x, y, w, h = json.load(open(report))["buttons"][label]
        break
    except (OSError, ValueError):
        time.sleep(0.05)
subprocess.run(["xdotool", "mousemove", str(x + w // 2), str(y + h // 2), "click", "1"], check=True)
text = ""
deadline = time.monotonic() + 30
while not text.startswith("reverie dream") and time.monotonic() < deadline:
    text = Gtk.Clipboard.get(Gdk.SELECTION_CLIPBOARD).wait_for_text() or ""
open(out, "w").write(text)
"""


def test_the_copied_command_dreams_the_layers_pixels(
    run_gimp_ui: Callable[..., Record], endpoint: str, work: Workspace, tmp_path: Path
) -> None:
    # The seed is 0 (random): copying fixes one in the dialog, so OK dreams what the copied line does.
    (work.host / "click.py").write_text(CLICK_AND_READ_CLIPBOARD)
    report, copied = work.inside / "layout.json", work.inside / "copied.txt"
    record = run_gimp_ui(
        "image, layer = g.new_image(160, 120, alpha=False)\n"
        "g.Gimp.Display.new(image)\n"
        f"g.Gimp.file_save(g.Gimp.RunMode.NONINTERACTIVE, image, g.Gio.File.new_for_path("
        f"{str(work.inside / 'source.png')!r}), None)\n"
        f"out = g.dream(image, layer, run_mode=g.Gimp.RunMode.INTERACTIVE, seed=0, endpoint={endpoint!r}, "
        "model='mobilenet', octaves=2, steps=3, jitter=8)\n"
        "rec.value('status', out['status']); rec.value('message', out.get('message'))\n"
        "rec.value('seed', out.get('seed'))\n"
        "rec.pixels('dream', image.get_layers()[0], \"R'G'B' u8\")\n"
        "rec.pixels('source', layer, \"R'G'B' u8\")\n",
        [
            (COMMAND_STEP, f"python3 {work.inside / 'click.py'} {report} 'Copy as command' {copied}"),
            (DIALOG, "alt+o"),
        ],
        extra_env={"REVERIE_LAYOUT_REPORT": str(report)},
    )
    assert record.values["status"] == "success", record.values["message"]
    words = shlex.split((work.host / "copied.txt").read_text())
    assert words[:2] == ["reverie", "dream"] and words[-2:] == ["--seed", str(record.values["seed"])], words
    assert words[words.index("--server") + 1] == endpoint
    words[2], words[words.index("-o") + 1] = str(work.host / "source.png"), str(tmp_path / "dream.png")
    completed = subprocess.run([*REVERIE, *words[1:]], capture_output=True, text=True, check=False)
    assert completed.returncode == 0, completed.stderr
    with Image.open(tmp_path / "dream.png") as dreamed:
        cli = np.asarray(dreamed.convert("RGB")).astype(int)
    dream = record.pixels["dream"].astype(int)
    assert np.abs(dream - record.pixels["source"].astype(int)).mean() > 0.5  # a dream, not the source
    assert np.abs(cli - dream).max() <= 1


def test_dreaming_a_dream_layer_again_restores_its_settings_and_dreams_its_source(
    run_gimp_ui: Callable[..., Record], endpoint: str
) -> None:
    # A script dreams the artwork; the dialog then opens on that dream layer with other values set, and OK
    # dreams again: the recorded settings (seed 77 …) on the artwork, so the same server gives the same pixels.
    made = f"endpoint={endpoint!r}, model='mobilenet', preset='shallow', octaves=1, steps=3, step_size=0.02, jitter=8"
    record = run_gimp_ui(
        "import json\n"
        "image, layer = g.new_image(160, 120, alpha=False)\n"
        "g.Gimp.Display.new(image)\n"
        f"first = g.dream(image, layer, seed=77, {made})\n"
        "rec.pixels('first', first['layer'], \"R'G'B' u8\")\n"
        "again = g.dream(image, first['layer'], run_mode=g.Gimp.RunMode.INTERACTIVE, seed=5, steps=9, "
        "preset='deep')\n"
        "rec.value('status', again['status']); rec.value('message', again.get('message'))\n"
        "rec.value('seed', again.get('seed'))\n"
        "rec.layers('after', image)\n"
        "rec.pixels('again', again['layer'], \"R'G'B' u8\")\n"
        "parasite = lambda l: json.loads(bytes(l.get_parasite('reverie-dream').get_data()).decode())\n"
        "rec.value('details', [parasite(first['layer']), parasite(again['layer'])])\n",
        [(DIALOG, "alt+o")],
    )
    assert record.values["status"] == "success", record.values["message"]
    assert record.values["seed"] == 77
    names = [entry["name"] for entry in record.values["after"]]
    assert names == ["Deep Dream #77", "Deep Dream #77 (2)", "artwork"], names
    first, again = record.values["details"]
    assert again["settings"] == first["settings"] and again["params"] == first["params"]
    assert first["settings"]["steps"] == 3 and first["settings"]["preset"] == "shallow"
    assert first["source"]["name"] == again["source"]["name"] == "artwork"
    assert set(first["server"]) == {"model", "weights", "version", "backend"}
    assert first["server"]["model"] == "mobilenet" and first["server"]["weights"] == "random"
    assert (record.pixels["again"] == record.pixels["first"]).all()
