"""The plug-in's dialog in a real GIMP 3 with its UI (on Xvfb), driven by key presses as an artist would.

GIMP checks every label's mnemonic against the others and its own buttons when it builds the dialog
and complains on stderr; the run's output must hold no such complaint and no widget assertion.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from gimp_harness import Record

pytestmark = pytest.mark.gimp

DIALOG = "^Deep Dream$"
SETUP = (
    "image, layer = g.new_image(160, 120)\n"
    "g.Gimp.Display.new(image)\n"
    "image.select_rectangle(g.Gimp.ChannelOps.REPLACE, 30, 20, 90, 70)\n"
)


def interactive(endpoint: str) -> str:
    return (
        SETUP + f"out = g.dream(image, layer, run_mode=g.Gimp.RunMode.INTERACTIVE, seed=21, endpoint={endpoint!r}, "
        "model='mobilenet', octaves=1, steps=2)\n"
        "rec.value('status', out['status']); rec.value('message', out.get('message'))\n"
        "rec.layers('after', image)\n"
    )


def assert_clean_dialog(record: Record) -> None:
    assert "duplicate mnemonic" not in record.output
    assert "LibGimpWidgets-CRITICAL" not in record.output


def test_ok_dreams_with_the_dialogs_values(run_gimp_ui: Callable[..., Record], endpoint: str) -> None:
    record = run_gimp_ui(interactive(endpoint), [(DIALOG, "alt+o")])
    assert record.values["status"] == "success", record.values["message"]
    assert [entry["name"] for entry in record.values["after"]] == ["Deep Dream", "artwork"]
    assert_clean_dialog(record)


def test_preview_button_previews_without_closing_the_dialog(run_gimp_ui: Callable[..., Record], endpoint: str) -> None:
    # Preview; once the image window's title counts 2 layers, Cancel: the preview layer stays, and the
    # dialog was still open to be cancelled.
    record = run_gimp_ui(interactive(endpoint), [(DIALOG, "alt+w"), ("2 layers", ""), (DIALOG, "alt+c")])
    assert record.values["status"] == "cancel"
    assert [entry["name"] for entry in record.values["after"]] == ["Deep Dream preview", "artwork"]
    assert_clean_dialog(record)
