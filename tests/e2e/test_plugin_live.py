"""Live dreaming in a real GIMP 3 with its UI (on Xvfb): the dialog's preview pane, watched on the screen as
an artist would see it, Stop and keep in a full run, and Cancel during a preview.

pane_watch.py grabs the dialog's window from the X display: it finds the source crop drawn 1:1 in the pane,
presses Preview, and notes when the pane's pixels first differ from the source.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import astuple
from pathlib import Path

import numpy as np
import pytest
from dream_server import facts
from gimp_harness import COMMAND_STEP, Record, Workspace, shown_window
from PIL import Image

from reverie_plugin.geometry import Rect, preview_crop
from reverie_plugin.pane_view import dragged_crop
from reverie_wire.client import DreamClient, Snapshot
from reverie_wire.snapshots import SnapshotRequest

pytestmark = pytest.mark.gimp

HERE = Path(__file__).resolve().parent
DIALOG = "^Deep Dream$"
WIDTH, HEIGHT = 200, 160
# Long enough that the preview still runs when the test cancels it.
LONG = {"model": "mobilenet", "octaves": 2, "steps": 300}


def octave_seconds(endpoint: str) -> float:
    """How long the first octave of the preview's dream takes on the session's server, from submitting it."""
    pixels = np.random.default_rng(1).integers(0, 255, (HEIGHT, WIDTH, 4), dtype=np.uint8)
    with DreamClient(endpoint, timeout=30) as client:
        client.hello()
        started = time.monotonic()
        job = client.submit(
            pixels.tobytes(),
            width=WIDTH,
            height=HEIGHT,
            channels=4,
            dtype="u8",
            params={**LONG, "seed": 3},
            snapshots=SnapshotRequest(60_000, 64),
        )
        for event in client.events(job):
            if isinstance(event, Snapshot) and event.octave_done:
                seconds = time.monotonic() - started
                client.cancel(job)
            if not isinstance(event, Snapshot) and type(event).__name__ in ("Cancelled", "Result"):
                return seconds
    raise AssertionError("the octave never ended")


def keep_screenshot(work: Workspace, watch: dict) -> None:
    """With REVERIE_SCREENSHOTS=DIR, the dialog as the watcher saw it once the dream showed, as DIR/live-dialog.png."""
    folder = os.environ.get("REVERIE_SCREENSHOTS")
    if not folder:
        return
    width, height, stride, channels = watch["frame"]
    raw = np.frombuffer((work.host / "changed.raw").read_bytes(), np.uint8)
    rows = np.stack([raw[y * stride : y * stride + width * channels] for y in range(height)])
    Image.fromarray(rows.reshape(height, width, channels)[:, :, :3]).save(
        Path(folder) / "live-dialog.png", optimize=True
    )


def watcher(work: Workspace) -> tuple[str, str]:
    shutil.copy(HERE / "pane_watch.py", work.host / "pane_watch.py")
    return COMMAND_STEP, f"python3 {work.inside / 'pane_watch.py'} {work.inside}"


def watched_dialog(
    work: Workspace, endpoint: str, then: list[str], idle: str = "", until_done: bool = False, **settings: object
) -> str:
    """Batch code: a WIDTH×HEIGHT image on a display, its source for pane_watch.py (which presses ``then`` once
    the pane has changed, then waits for the server at ``idle`` to go idle), and an interactive dream with
    ``settings``; records its status, message and seed, and the layers after it."""
    values = ", ".join(f"{name}={value!r}" for name, value in settings.items())
    return (
        f"image, layer = g.new_image({WIDTH}, {HEIGHT})\n"
        "g.Gimp.Display.new(image)\n"
        f"g.write_source({str(work.inside)!r}, layer, {then!r}, {idle!r}, {until_done!r})\n"
        f"out = g.dream(image, layer, run_mode=g.Gimp.RunMode.INTERACTIVE, endpoint={endpoint!r}, {values})\n"
        "rec.value('status', out['status']); rec.value('message', out.get('message'))\n"
        "rec.value('seed', out.get('seed'))\n"
        "rec.layers('after', image)\n"
    )


def read_watch(work: Workspace) -> dict:
    """What pane_watch.py saw (watch.json); the pane must have changed after Preview."""
    watch = json.loads((work.host / "watch.json").read_text())
    assert "changed" in watch, "the pane never changed after Preview"
    return watch


def test_the_pane_shows_the_dream_forming_and_cancel_leaves_the_image_and_server_idle(
    run_gimp_ui: Callable[..., Record], endpoint: str, work: Workspace
) -> None:
    octave = octave_seconds(endpoint)
    record = run_gimp_ui(
        watched_dialog(work, endpoint, ["alt+c"], **LONG, seed=3)
        + f"rec.value('idle', g.server_idle_at({endpoint!r}))\n",
        [watcher(work)],
    )
    watch = json.loads((work.host / "watch.json").read_text())
    assert watch["pane"] is not None, "the dialog does not show the layer 1:1 in a pane"
    assert "changed" in watch, "the pane never changed after Preview"
    keep_screenshot(work, watch)
    print(
        f"pane changed {watch['changed'] - watch['pressed']:.2f} s after Preview (first octave {octave:.2f} s); "
        f"server idle {record.values['idle'] - watch['then'][0]:.2f} s after Cancel"
    )
    assert watch["changed"] - watch["pressed"] < octave, (watch["changed"] - watch["pressed"], octave)
    assert record.values["status"] == "cancel"
    assert [entry["name"] for entry in record.values["after"]] == ["artwork"]
    assert record.values["idle"] is not None and record.values["idle"] - watch["then"][0] < 2.0
    assert "LibGimpWidgets-CRITICAL" not in record.output and "duplicate mnemonic" not in record.output


# The full run's progress window once a step has been timed: its title says how long is left.
TIME_LEFT_TITLE = r"^Dreaming: octave 1/1, step [0-9]+/1000 \(~[0-9].* left\)$"


def snapshot_shown(work: Workspace, title: str = "^Dreaming: octave") -> tuple[str, str]:
    """A step that waits (up to a minute) until the full run's progress window has grown a picture of the dream
    (the window is 60-odd pixels tall with its bar alone), writes its X geometry to progress.txt, then presses
    Stop and keep."""
    geometry = work.inside / "progress.txt"
    return COMMAND_STEP, (
        f"w=$({shown_window(title)}); i=0; "
        "while [ $i -lt 1200 ] && [ $(xdotool getwindowgeometry --shell $w | sed -n 's/^HEIGHT=//p') -lt 200 ]; "
        f"do sleep 0.05; i=$((i+1)); done; xdotool getwindowgeometry --shell $w > {geometry}; "
        "xdotool windowfocus --sync $w key alt+s"
    )


def test_stop_and_keep_in_a_full_run_leaves_a_partial_dream_in_one_undo_step(
    run_gimp_ui: Callable[..., Record], endpoint: str, work: Workspace
) -> None:
    # OK starts an endless dream; once its progress window says the time left and shows the dream forming,
    # Stop keeps what has formed.
    record = run_gimp_ui(
        "import json\n"
        f"image, layer = g.new_image({WIDTH}, {HEIGHT})\n"
        "g.Gimp.Display.new(image)\n"
        "rec.pixels('source', layer, \"R'G'B'A u8\")\n"
        f"out = g.dream(image, layer, run_mode=g.Gimp.RunMode.INTERACTIVE, endpoint={endpoint!r}, "
        "model='mobilenet', octaves=1, steps=1000, seed=8)\n"
        "rec.value('status', out['status']); rec.value('message', out.get('message'))\n"
        "rec.layers('dreamed', image)\n"
        "top = image.get_layers()[0]\n"
        "rec.pixels('kept', top, \"R'G'B'A u8\")\n"
        "rec.value('details', json.loads(bytes(top.get_parasite('reverie-dream').get_data()).decode()))\n"
        "image.set_file(g.Gio.File.new_for_path('/tmp/dreamed.xcf'))\n"
        "g.Gimp.displays_flush()\n"
        "rec.value('undone', g.wait_for_layers(image, ['artwork']))\n",
        [(DIALOG, "alt+o"), snapshot_shown(work, TIME_LEFT_TITLE), ("dreamed", "ctrl+z")],
    )
    shell = dict(line.split("=", 1) for line in (work.host / "progress.txt").read_text().split())
    assert int(shell["HEIGHT"]) >= 200, f"no snapshot showed in the progress window: {shell}"
    assert record.values["status"] == "success", record.values["message"]
    assert [entry["name"] for entry in record.values["dreamed"]] == ["Deep Dream #8", "artwork"]
    partial = record.values["details"]["partial"]
    assert 1 <= partial["step"] < 1000 and partial["octave"] == 1, partial
    kept, source = record.pixels["kept"].astype(int), record.pixels["source"].astype(int)
    assert (kept[:, :, 3] == source[:, :, 3]).all()
    assert np.abs(kept[:, :, :3] - source[:, :, :3]).mean() > 0.5  # a dream had begun
    assert record.values["undone"] == ["artwork"]


def test_ok_after_a_preview_of_the_whole_layer_keeps_it_without_a_second_dream(
    run_gimp_ui: Callable[..., Record], endpoint: str, work: Workspace
) -> None:
    # The layer is within the preview's 512×512, so the preview is the full run: OK places it (one job only).
    done_before = facts(endpoint)["jobs_done"]
    record = run_gimp_ui(
        # OK once the preview is done (the watcher waits for the title to lose "(previewing)").
        watched_dialog(work, endpoint, [], until_done=True, model="mobilenet", octaves=1, steps=3, seed=0),
        [watcher(work), (DIALOG, "alt+o")],
    )
    assert record.values["status"] == "success", record.values["message"]
    assert [entry["name"] for entry in record.values["after"]] == [f"Deep Dream #{record.values['seed']}", "artwork"]
    assert facts(endpoint)["jobs_done"] == done_before + 1


def test_changing_a_setting_during_a_preview_stops_its_job_on_the_server(
    run_gimp_ui: Callable[..., Record], endpoint: str, work: Workspace
) -> None:
    # Once the pane shows the dream, Alt+E focuses Steps and Up changes it; the dialog stays open (Cancel
    # closes it afterwards) while the watcher sees the server go idle.
    record = run_gimp_ui(
        watched_dialog(work, endpoint, ["alt+e", "Up"], idle=endpoint, **LONG, seed=3),
        [watcher(work), (DIALOG, "alt+c")],
    )
    watch = read_watch(work)
    changed_setting = watch["then"][1]
    print(f"server idle {watch['idle'] - changed_setting:.2f} s after the setting changed")
    assert watch["idle"] is not None and watch["idle"] - changed_setting < 2.0
    assert record.values["status"] == "cancel"
    assert [entry["name"] for entry in record.values["after"]] == ["artwork"]


def test_stop_during_a_preview_ends_its_job_and_keeps_the_dialog_open(
    run_gimp_ui: Callable[..., Record], endpoint: str, work: Workspace
) -> None:
    record = run_gimp_ui(
        watched_dialog(work, endpoint, ["alt+k"], idle=endpoint, **LONG, seed=3), [watcher(work), (DIALOG, "alt+c")]
    )
    watch = read_watch(work)
    assert watch["idle"] is not None and watch["idle"] - watch["then"][0] < 2.0
    assert record.values["status"] == "cancel"
    assert [entry["name"] for entry in record.values["after"]] == ["artwork"]


def test_dragging_the_picture_moves_the_previewed_crop(
    run_gimp_ui: Callable[..., Record], endpoint: str, work: Workspace
) -> None:
    # A 900×700 layer of noise (no repeats, so a crop shows in one place only): its preview crop is 512×512,
    # centred. Dragging the picture right and down at 1:1 moves the crop left and up under the pane's centre;
    # Preview then dreams there.
    width, height, drag = 900, 700, (120, 60)
    region = Rect(0, 0, width, height)
    before = preview_crop(region, None)
    after = dragged_crop(region, before, *drag, False, 1.0)
    assert after != before
    shutil.copy(HERE / "pane_watch.py", work.host / "pane_watch.py")
    shutil.copy(HERE / "pan_watch.py", work.host / "pan_watch.py")
    meta = {"width": width, "height": height, "before": list(astuple(before))}
    meta |= {"after": list(astuple(after)), "drag": list(drag)}
    record = run_gimp_ui(
        "import json, random\n"
        f"image, layer = g.new_image({width}, {height}, alpha=False)\n"
        f"rect = g.Gegl.Rectangle.new(0, 0, {width}, {height})\n"
        f"noise = random.Random(5).randbytes({width * height * 3})\n"
        "layer.get_buffer().set(rect, \"R'G'B' u8\", noise); layer.get_buffer().flush()\n"
        "g.Gimp.Display.new(image)\n"
        f"open({str(work.inside / 'source.rgb')!r}, 'wb').write(noise)\n"
        f"open({str(work.inside / 'source.json')!r}, 'w').write(json.dumps({meta!r}))\n"
        f"out = g.dream(image, layer, run_mode=g.Gimp.RunMode.INTERACTIVE, endpoint={endpoint!r}, "
        "model='mobilenet', octaves=1, steps=300, seed=3)\n"
        "rec.value('status', out['status'])\n",
        [(COMMAND_STEP, f"python3 {work.inside / 'pan_watch.py'} {work.inside}")],
    )
    watch = json.loads((work.host / "watch.json").read_text())
    assert watch["pane"] is not None, "the dialog does not show the centred crop 1:1"
    assert "moved" in watch, "dragging the picture did not bring the moved crop under the pane's centre"
    assert "dreamed" in watch, "Preview did not dream the moved crop"
    assert record.values["status"] == "cancel"
