"""Watches the Deep Dream dialog's preview pane on the X display, as an artist's eyes would (GIMP's Python,
gi only: it runs beside GIMP on the test's Xvfb).

``pane_watch.py FOLDER`` waits for FOLDER/source.json and .rgb (the pane's source crop, written by the batch
before it opens the dialog), finds the dialog, grabs its window until the source shows in it, presses
Preview, grabs until the source shows nowhere in the dialog, saves that frame, presses the keys in
source.json's "then" (e.g. Cancel), with "endpoint" waits until that server runs nothing, with "until_done" grabs
the dialog (the whole screen with "whole_screen") once more when its preview is done (FOLDER/done.raw), and writes
FOLDER/watch.json with the times (wall clock) of each step.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import gi

gi.require_version("Gdk", "3.0")
gi.require_version("GdkX11", "3.0")
from gi.repository import Gdk, GdkX11  # noqa: E402
from server_idle import server_idle_at  # noqa: E402

LIMIT = 60.0
# As gimp_harness.SEARCH_TRIES (this file runs with GIMP's Python, without the harness).
SEARCH_TRIES = 5


def window_id(title: str) -> int:
    """The id of a window named ``title`` once it is on screen (GTK names a window before it maps it; grabbing
    or focusing it in between fails). xdotool 3.20160805 dies of BadWindow when any window vanishes while it
    walks the window tree, so a failed search (it presses nothing) runs again, SEARCH_TRIES times at most."""
    for _ in range(SEARCH_TRIES):
        command = ["xdotool", "search", "--sync", "--onlyvisible", "--name", title]
        found = subprocess.run(command, capture_output=True, text=True, check=False)
        if found.returncode == 0:
            return int(found.stdout.split()[0])
        print(f"xdotool search failed, searching again: {found.stderr}", file=sys.stderr)
    raise SystemExit(f"xdotool search for {title!r} failed {SEARCH_TRIES} times")


def window_name(xid: int) -> str:
    named = subprocess.run(["xdotool", "getwindowname", str(xid)], capture_output=True, text=True, check=True)
    return named.stdout.strip()


def grab(window: Gdk.Window) -> tuple[bytes, int, int, int, int]:
    frame = Gdk.pixbuf_get_from_window(window, 0, 0, window.get_width(), window.get_height())
    return frame.get_pixels(), frame.get_width(), frame.get_height(), frame.get_rowstride(), frame.get_n_channels()


def locate(frame: tuple, source: bytes, width: int, height: int) -> tuple[int, int] | None:
    """Where the source crop shows 1:1 in the frame (x, y), or None."""
    pixels, frame_width, frame_height, stride, channels = frame
    if channels != 3:
        pixels = b"".join(pixels[i : i + 3] for i in range(0, len(pixels), channels))
        stride = frame_width * 3
    row0 = source[: width * 3]
    for y in range(frame_height - height + 1):
        line = pixels[y * stride : y * stride + frame_width * 3]
        at = line.find(row0)
        while at >= 0:
            if at % 3 == 0 and all(
                pixels[(y + r) * stride + at : (y + r) * stride + at + width * 3]
                == source[r * width * 3 : (r + 1) * width * 3]
                for r in range(height)
            ):
                return at // 3, y
            at = line.find(row0, at + 1)
    return None


def main(folder: Path) -> None:
    meta_path = folder / "source.json"
    deadline = time.monotonic() + LIMIT
    while not meta_path.is_file():
        if time.monotonic() > deadline:
            raise SystemExit("no source.json")
        time.sleep(0.05)
    meta = json.loads(meta_path.read_text())
    source = (folder / "source.rgb").read_bytes()
    width, height = meta["width"], meta["height"]
    xid = window_id(meta["title"])
    display = Gdk.Display.get_default()
    window = GdkX11.X11Window.foreign_new_for_display(display, xid)
    report: dict = {}
    place = None
    while place is None and time.monotonic() < deadline:
        place = locate(grab(window), source, width, height)
    report["pane"] = place
    if place is not None:
        subprocess.run(["xdotool", "windowfocus", "--sync", str(xid), "key", "alt+w"], check=True)
        report["pressed"] = time.time()
        frames = 0
        while time.monotonic() < deadline:
            frame = grab(window)
            frames += 1
            # Shown nowhere any more (not merely moved: the pane re-centres its picture when it is resized).
            if locate(frame, source, width, height) is None:
                report["changed"] = time.time()
                pixels, frame_width, frame_height, stride, channels = frame
                (folder / "changed.raw").write_bytes(pixels)
                report["frame"] = [frame_width, frame_height, stride, channels]
                break
        report["frames"] = frames
        if meta.get("until_done"):  # the dialog's title loses "(previewing)" when the preview is done
            while time.monotonic() < deadline and window_name(xid) != "Deep Dream":
                time.sleep(0.05)
            shown = Gdk.get_default_root_window() if meta.get("whole_screen") else window
            pixels, frame_width, frame_height, stride, channels = grab(shown)
            (folder / "done.raw").write_bytes(pixels)
            report["done"] = time.time()
            report["done_frame"] = [frame_width, frame_height, stride, channels]
        for keys in meta.get("then", []):
            subprocess.run(["xdotool", "windowfocus", "--sync", str(xid), "key", keys], check=True)
            report.setdefault("then", []).append(time.time())
        if meta.get("endpoint"):
            report["idle"] = server_idle_at(meta["endpoint"])
    (folder / "watch.json").write_text(json.dumps(report))


def locate_at(frame: tuple, source: bytes, width: int, height: int, x: int, y: int) -> bool:
    """Whether the frame still shows the source at (x, y)."""
    pixels, _, _, stride, channels = frame
    for r in range(height):
        start = (y + r) * stride + x * channels
        row = pixels[start : start + width * channels]
        if channels != 3:
            row = b"".join(row[i : i + 3] for i in range(0, len(row), channels))
        if row != source[r * width * 3 : (r + 1) * width * 3]:
            return False
    return True


if __name__ == "__main__":
    main(Path(sys.argv[1]))
