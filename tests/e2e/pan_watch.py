"""Drags the picture in the Deep Dream dialog's preview pane and watches the previewed crop move (GIMP's
Python, gi only: it runs beside GIMP on the test's Xvfb, as pane_watch.py does).

``pan_watch.py FOLDER`` waits for the dialog, reads FOLDER/source.json and .rgb (the whole layer, 8-bit RGB)
with "before" and "after" (the crops [x, y, w, h] before and after the drag) and "drag" ([dx, dy] screen
pixels). It finds the
"before" crop shown 1:1 in the dialog, drags the picture, waits until the "after" crop shows at that same
place (the pane keeps its crop centred), presses Preview, waits until the dream shows there, presses Cancel,
and writes FOLDER/watch.json.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from pane_watch import LIMIT, Gdk, GdkX11, grab, locate, locate_at, window_id

DIALOG = "^Deep Dream$"


def crop_of(source: bytes, width: int, rect: list[int]) -> bytes:
    """The rows of ``rect`` (x, y, w, h) of a ``width``-wide RGB picture."""
    x, y, w, h = rect
    return b"".join(source[(y + r) * width * 3 + x * 3 : (y + r) * width * 3 + (x + w) * 3] for r in range(h))


def xdotool(*args: str) -> None:
    subprocess.run(["xdotool", *args], check=True)


def main(folder: Path) -> None:
    xid = window_id(DIALOG)  # the batch writes the source before it opens the dialog
    meta = json.loads((folder / "source.json").read_text())
    source = (folder / "source.rgb").read_bytes()
    before, after = crop_of(source, meta["width"], meta["before"]), crop_of(source, meta["width"], meta["after"])
    w, h = meta["before"][2], meta["before"][3]
    window = GdkX11.X11Window.foreign_new_for_display(Gdk.Display.get_default(), xid)
    deadline = time.monotonic() + LIMIT
    report: dict = {"pane": None}
    while report["pane"] is None and time.monotonic() < deadline:
        report["pane"] = locate(grab(window), before, w, h)
    if report["pane"] is not None:
        x, y = report["pane"]
        dx, dy = meta["drag"]
        xdotool("mousemove", "--window", str(xid), str(x + w // 2), str(y + h // 2), "mousedown", "1")
        for step in range(1, 5):  # a drag is a press, some motion and a release
            xdotool(
                "mousemove", "--window", str(xid), str(x + w // 2 + dx * step // 4), str(y + h // 2 + dy * step // 4)
            )
        xdotool("mouseup", "1")
        while "moved" not in report and time.monotonic() < deadline:
            if locate_at(grab(window), after, w, h, x, y):
                report["moved"] = time.time()
        if "moved" in report:
            xdotool("windowfocus", "--sync", str(xid), "key", "alt+w")
            while "dreamed" not in report and time.monotonic() < deadline:
                if not locate_at(grab(window), after, w, h, x, y):
                    report["dreamed"] = time.time()
    xdotool("windowfocus", "--sync", str(xid), "key", "alt+c")
    (folder / "watch.json").write_text(json.dumps(report))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
