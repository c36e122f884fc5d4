"""Beside GIMP on the test's Xvfb (its Python, gi): an artist's hand on the channel browser.

``browse_channels.py DIALOG_REPORT BROWSER_REPORT INDEX SHOTS`` waits for the Deep Dream dialog's layout report,
grabs the screen (SHOTS/dialog.png), clicks "Browse channels…", waits for the browser's report of its sheet,
grabs the screen (SHOTS/browser.png), clicks the middle of the sheet's cell INDEX, grabs the screen once the
field shows it (SHOTS/clicked.png), then clicks the browser's Close.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import gi

gi.require_version("Gdk", "3.0")
from gi.repository import Gdk  # noqa: E402

LIMIT = 240.0  # a first atlas renders its tiles on a 2-core CPU


def report(path: str, key: str) -> dict:
    deadline = time.monotonic() + LIMIT
    while time.monotonic() < deadline:
        try:
            facts = json.loads(Path(path).read_text())
            if facts.get(key):
                return facts
        except (OSError, ValueError):
            pass
        time.sleep(0.05)
    raise SystemExit(f"no {key} in {path} within {LIMIT:.0f} s")


def click(x: int, y: int) -> None:
    subprocess.run(["xdotool", "mousemove", str(x), str(y), "click", "1"], check=True)


def click_button(facts: dict, label: str) -> None:
    x, y, w, h = facts["buttons"][label]
    click(x + w // 2, y + h // 2)


def shot(path: Path) -> None:
    root = Gdk.get_default_root_window()
    Gdk.pixbuf_get_from_window(root, 0, 0, root.get_width(), root.get_height()).savev(str(path), "png", [], [])


def main(dialog_report: str, browser_report: str, index: int, shots: Path) -> None:
    dialog = report(dialog_report, "buttons")
    subprocess.run(["xdotool", "mousemove", "0", "0"], check=True)
    time.sleep(0.5)  # the dialog drawn, not just mapped: a picture for a person, nothing waits on it
    shot(shots / "dialog.png")
    click_button(dialog, "Browse channels…")
    browser = report(browser_report, "atlas")
    time.sleep(0.5)
    shot(shots / "browser.png")
    x, y, w, h = browser["atlas"]["cells"][index]
    left, top = browser["sheet"]
    click(left + x + w // 2, top + y + h // 2)
    time.sleep(0.5)
    shot(shots / "clicked.png")
    click_button(browser, "_Close")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), Path(sys.argv[4]))
