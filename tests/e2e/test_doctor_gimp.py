"""``reverie doctor``'s GIMP checks against a real GIMP 3: its own Python and the plug-in the real installer
put in place."""

from __future__ import annotations

import shlex

import pytest
from gimp_harness import GimpInstall, Workspace

from reverie.doctor.checks import GimpSetup, gimp_checks, probe_gimp_zmq
from reverie_wire.protocol import PROTOCOL_VERSION

pytestmark = pytest.mark.gimp


def test_doctor_finds_gimps_pyzmq_and_the_installed_plugin(gimp: GimpInstall, template: Workspace) -> None:
    python = shlex.split(gimp.python())
    zmq = probe_gimp_zmq(python, template.inside / "plug-ins" / "reverie-dream")
    assert isinstance(zmq, dict), zmq
    folder, pyzmq, plugin = gimp_checks(GimpSetup(template.host, True, python, zmq))
    assert folder.ok and pyzmq.ok, pyzmq
    assert pyzmq.text.startswith(f"GIMP's Python {zmq['python']} ({gimp.python()}): pyzmq {zmq['zmq']}")
    # Installed with --plugin-only and no `reverie` on PATH: it speaks our protocol but cannot start a server.
    assert not plugin.ok and not plugin.blocking, plugin
    assert f"(protocol {PROTOCOL_VERSION}) has no `reverie` command" in plugin.text


def test_doctor_sees_a_gimp_python_without_pyzmq(gimp: GimpInstall, work: Workspace) -> None:
    python = [*shlex.split(gimp.python()), "-I", "-S"]  # no site-packages: as a GIMP without python3-zmq
    found = probe_gimp_zmq(python, work.inside)
    assert found == "ModuleNotFoundError: No module named 'zmq'"
    (_, pyzmq, _) = gimp_checks(GimpSetup(work.host, True, python, found))
    assert not pyzmq.ok and pyzmq.blocking and "install.py --plugin-only" in pyzmq.fix
