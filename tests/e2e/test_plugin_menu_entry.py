"""The plug-in's menu entry in a real GIMP 3 needs nothing but GIMP: where GIMP's Python cannot import pyzmq,
or Reverie's config cannot be read, the entry is still there and a run ends with the fix instead of a dream.

For pyzmq, a ``zmq`` package that fails to import sits first on the plug-in's path (where the installer
vendors pyzmq). The plug-in file's new time makes GIMP query the plug-in again with the fault in place, as
it would after an install into such a GIMP.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable

import numpy as np
import pytest
from gimp_harness import Record, Workspace

pytestmark = pytest.mark.gimp

SHADOW = 'raise ModuleNotFoundError("No module named \'zmq\'", name="zmq")\n'
RUN = (
    "proc = g.Gimp.get_pdb().lookup_procedure(g.PROCEDURE)\n"
    "rec.value('registered', proc is not None)\n"
    "rec.value('paths', list(proc.get_menu_paths()) if proc else None)\n"
    "image, layer = g.new_image(128, 96)\n"
    "rec.pixels('before', layer, \"R'G'B'A u8\")\n"
    "out = g.dream(image, layer, seed=3, endpoint={endpoint!r}, model='mobilenet', octaves=1, steps=2)\n"
    "rec.value('status', out['status']); rec.value('message', out.get('message'))\n"
    "rec.layers('after', image)\n"
    "rec.pixels('after', layer, \"R'G'B'A u8\")\n"
)


def plugin_folder(gimp_dir: Workspace) -> Workspace:
    return gimp_dir.sub("plug-ins/reverie-dream")


def query_again(plugin: Workspace) -> None:
    """Give the plug-in file a time newer than GIMP's record of it, so GIMP queries it again."""
    os.utime(plugin.host / "reverie-dream.py")


def assert_registered_and_refused_with(record: Record, words: list[str]) -> None:
    assert record.values["registered"], record.output[-3000:]
    assert record.values["paths"] == ["<Image>/Filters/Artistic"]
    assert record.values["status"] == "execution-error"
    message = record.values["message"]
    assert all(word in message for word in words), message
    assert "Traceback" not in record.output
    assert [entry["name"] for entry in record.values["after"]] == ["artwork"]
    np.testing.assert_array_equal(record.pixels["after"], record.pixels["before"])


def test_without_pyzmq_the_menu_entry_exists_and_a_run_names_the_fix(
    run_gimp: Callable[..., Record], gimp_dir: Workspace, endpoint: str
) -> None:
    plugin = plugin_folder(gimp_dir)
    (plugin.host / "zmq").mkdir()
    (plugin.host / "zmq" / "__init__.py").write_text(SHADOW)
    query_again(plugin)
    record = run_gimp(RUN.format(endpoint=endpoint))
    assert_registered_and_refused_with(record, ["cannot use pyzmq", "python3 install/install.py --plugin-only"])


def test_with_an_unreadable_config_the_menu_entry_exists_and_a_run_names_the_file(
    run_gimp: Callable[..., Record], gimp_dir: Workspace, endpoint: str
) -> None:
    plugin = plugin_folder(gimp_dir)
    (plugin.host / "config.toml").write_bytes(b'[server]\nendpoint = "caf\xe9"\n')  # not UTF-8
    settings = {"launcher": None, "config": str(plugin.inside / "config.toml")}
    (plugin.host / "reverie-dream.json").write_text(json.dumps(settings))
    query_again(plugin)
    record = run_gimp(RUN.format(endpoint=endpoint))
    assert_registered_and_refused_with(record, ["cannot read the config file", "config.toml", "--plugin-only"])
