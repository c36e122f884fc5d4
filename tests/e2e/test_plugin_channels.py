"""The dialog's "Browse channels…" in a real GIMP 3 on a 1366×768 Xvfb screen: the server renders the atlas of the
Layers field's layer, a click on a tile adds ``layer:channel`` to the field, and OK dreams with it."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from dream_server import SERVER_FLAGS, serving
from gimp_harness import COMMAND_STEP, Record, Workspace
from test_plugin_dialog import assert_clean_dialog, inside

pytestmark = pytest.mark.gimp

HERE = Path(__file__).resolve().parent
DIALOG = "^Deep Dream$"
SCREEN = "1366x768"
LAYER = "conv_pw_3_relu"
CELL = 5  # the sixth tile of the first page: channel 5
# A folder to copy the screenshots to (dialog, browser, after the click), when set.
SHOTS = "REVERIE_SCREENSHOTS"


@pytest.fixture
def private_server(session_space: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A dream server whose atlas tiles go to a cache of this test's own."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    with serving(session_space.host / "channels-server.log", *SERVER_FLAGS) as address:
        yield address


def test_a_click_on_a_channel_adds_it_to_layers_and_ok_dreams_it(
    run_gimp_ui: Callable[..., Record], private_server: str, work: Workspace
) -> None:
    shutil.copy(HERE / "browse_channels.py", work.host / "browse_channels.py")
    dialog_report, browser_report = work.inside / "dialog.json", work.inside / "browser.json"
    hand = f"python3 {work.inside / 'browse_channels.py'} {dialog_report} {browser_report} {CELL} {work.inside}"
    record = run_gimp_ui(
        "import json\n"
        "image, layer = g.new_image(160, 120, alpha=False)\n"
        "g.Gimp.Display.new(image)\n"
        f"out = g.dream(image, layer, run_mode=g.Gimp.RunMode.INTERACTIVE, seed=3, endpoint={private_server!r}, "
        f"model='mobilenet', octaves=1, steps=2, layers='{LAYER}=1.5')\n"
        "rec.value('status', out['status']); rec.value('message', out.get('message'))\n"
        "details = json.loads(bytes(out['layer'].get_parasite('reverie-dream').get_data()).decode())\n"
        "rec.value('details', details)\n",
        [(COMMAND_STEP, hand), (DIALOG, "alt+o")],
        screen=SCREEN,
        extra_env={"REVERIE_LAYOUT_REPORT": str(dialog_report), "REVERIE_BROWSER_REPORT": str(browser_report)},
    )
    assert record.values["status"] == "success", record.values["message"]
    browser = json.loads((work.host / "browser.json").read_text())
    assert browser["atlas"]["layer"] == LAYER and browser["atlas"]["channels"] == list(range(16))
    settings = record.values["details"]["settings"]
    assert settings["layers"] == f"{LAYER}=1.5, {LAYER}:{CELL}", settings
    assert record.values["details"]["params"]["channels"] == {LAYER: [CELL]}
    width, height = (int(side) for side in SCREEN.split("x"))
    dialog = json.loads((work.host / "dialog.json").read_text())
    for facts in (dialog, browser):
        assert inside(facts["window"], width, height), facts["window"]
        for label, rect in facts["buttons"].items():
            assert inside(rect, width, height), (label, rect)
    assert "Browse channels…" in dialog["buttons"] and "_Close" in browser["buttons"]
    if os.environ.get(SHOTS):  # the screen as it was, for a person to look at
        for name in ("dialog", "browser", "clicked"):
            shutil.copy(work.host / f"{name}.png", Path(os.environ[SHOTS]) / f"channels-{name}.png")
    assert_clean_dialog(record)
