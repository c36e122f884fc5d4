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
from pathlib import Path

import numpy as np
import pytest
from gimp_harness import COMMAND_STEP, Record, Workspace
from PIL import Image

from reverie.client import DreamClient, Snapshot
from reverie.snapshots import SnapshotRequest

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


def test_the_pane_shows_the_dream_forming_and_cancel_leaves_the_image_and_server_idle(
    run_gimp_ui: Callable[..., Record], endpoint: str, work: Workspace
) -> None:
    octave = octave_seconds(endpoint)
    params = ", ".join(f"{key.replace('_', '-')!r}: {value!r}" for key, value in {**LONG, "seed": 3}.items())
    record = run_gimp_ui(
        f"image, layer = g.new_image({WIDTH}, {HEIGHT})\n"
        "g.Gimp.Display.new(image)\n"
        f"g.write_source({str(work.inside)!r}, layer, ['alt+c'])\n"
        f"values = {{{params}}}\n"
        f"out = g.dream(image, layer, run_mode=g.Gimp.RunMode.INTERACTIVE, endpoint={endpoint!r}, "
        "**{k.replace('-', '_'): v for k, v in values.items()})\n"
        "rec.value('status', out['status'])\n"
        "rec.layers('after', image)\n"
        f"rec.value('idle', g.server_idle_at({endpoint!r}))\n",
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
