"""The plug-in in a real GIMP 3 whose Python cannot import pyzmq: the menu entry is still there, and a run
ends with the fix instead of a dream.

A ``zmq`` package that fails to import sits first on the plug-in's path (where the installer vendors pyzmq),
and the plug-in file's new time makes GIMP query the plug-in again with it in place, as it would after an
install into a GIMP without pyzmq.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np
import pytest
from gimp_harness import Record, Workspace

pytestmark = pytest.mark.gimp

SHADOW = 'raise ModuleNotFoundError("No module named \'zmq\'", name="zmq")\n'


@pytest.fixture
def without_pyzmq(gimp_dir: Workspace) -> None:
    plugin = gimp_dir.host / "plug-ins" / "reverie-dream"
    (plugin / "zmq").mkdir()
    (plugin / "zmq" / "__init__.py").write_text(SHADOW)
    os.utime(plugin / "reverie-dream.py")  # now: newer than GIMP's record of it, so GIMP queries it again


@pytest.mark.usefixtures("without_pyzmq")
def test_menu_entry_exists_and_a_run_names_the_fix(run_gimp: Callable[..., Record], endpoint: str) -> None:
    record = run_gimp(
        "proc = g.Gimp.get_pdb().lookup_procedure(g.PROCEDURE)\n"
        "rec.value('registered', proc is not None)\n"
        "rec.value('paths', list(proc.get_menu_paths()) if proc else None)\n"
        "image, layer = g.new_image(128, 96)\n"
        "rec.pixels('before', layer, \"R'G'B'A u8\")\n"
        f"out = g.dream(image, layer, seed=3, endpoint={endpoint!r}, model='mobilenet', octaves=1, steps=2)\n"
        "rec.value('status', out['status']); rec.value('message', out.get('message'))\n"
        "rec.layers('after', image)\n"
        "rec.pixels('after', layer, \"R'G'B'A u8\")\n"
    )
    assert record.values["registered"], record.output[-3000:]
    assert record.values["paths"] == ["<Image>/Filters/Artistic"]
    assert record.values["status"] == "execution-error"
    message = record.values["message"]
    assert "cannot use pyzmq" in message and "python3 install/install.py --plugin-only" in message, message
    assert "Traceback" not in record.output
    assert [entry["name"] for entry in record.values["after"]] == ["artwork"]
    np.testing.assert_array_equal(record.pixels["after"], record.pixels["before"])
