"""A dream without a usable pyzmq in GIMP's Python ends with the fix, not a traceback."""

from __future__ import annotations

import sys

import pytest

from reverie_plugin.messages import PluginFailure
from reverie_plugin.pyzmq_check import require_pyzmq


def test_pyzmq_present_passes() -> None:
    require_pyzmq()


def test_pyzmq_missing_names_the_installer(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("zmq", "zmq.auth", "zmq.utils", "zmq.utils.monitor"):
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(PluginFailure, match=r"cannot use pyzmq .*install\.py --plugin-only"):
        require_pyzmq()
