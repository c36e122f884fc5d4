"""Fixtures for the e2e tests: a real GIMP 3, the real installer, a real dream server on a free port.

Without GIMP 3 (and root for the chroot) the tests skip with the reason; under CI=true they fail,
because a CI run that skips them proves nothing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from dream_server import REVERIE, SERVER_FLAGS, serving
from gimp_harness import GIMP_PATH, GimpInstall, GimpUnavailable, Record, Workspace, find_gimp, run_batch, run_gui_batch
from launcher_bridge import LauncherBridge, write_shim

REPO = Path(__file__).resolve().parents[2]
# The session server's limit: above 1024×768, so a larger image shows the plug-in's too-large path.
MAX_PIXELS = 1_000_000


@pytest.fixture(scope="session")
def gimp() -> GimpInstall:
    """GIMP 3 as provide_gimp.sh left it; skip (fail under CI) without it."""
    try:
        return find_gimp()
    except GimpUnavailable as reason:
        if os.environ.get("CI", "").lower() in ("true", "1", "yes"):
            pytest.fail(f"CI must run the GIMP e2e tests: {reason}")
        pytest.skip(str(reason))


@pytest.fixture(scope="session")
def session_space(gimp: GimpInstall) -> Iterator[Workspace]:
    """The session's folder inside GIMP's root, removed at the end."""
    space = Workspace.create(gimp, "session")
    yield space
    shutil.rmtree(space.host)


@pytest.fixture(scope="session")
def template(gimp: GimpInstall, session_space: Workspace) -> Workspace:
    """A GIMP config dir with the plug-in installed by the real installer and GIMP's plug-in scan done.

    Copying it per test saves the seconds a fresh config costs (GIMP queries every plug-in once).
    """
    config = session_space.sub("template")
    installer = [sys.executable, str(REPO / "install" / "install.py"), "--plugin-only"]
    installer += ["--gimp-dir", str(config.host), "--gimp-python", gimp.python()]
    # No ``reverie`` on the installer's PATH: the tests choose per run whether GIMP can find one.
    completed = subprocess.run(
        installer, capture_output=True, text=True, env={**os.environ, "PATH": GIMP_PATH}, check=False
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "has pyzmq" in completed.stdout, completed.stdout
    record = run_batch(
        gimp,
        config,
        session_space.sub("template-scan"),
        "proc = g.Gimp.get_pdb().lookup_procedure(g.PROCEDURE)\n"
        "rec.value('registered', proc is not None)\n"
        "rec.value('label', proc.get_menu_label())\n"
        "rec.value('paths', list(proc.get_menu_paths()))\n",
        GIMP_PATH,
    )
    assert record.values["registered"], record.output
    return config


@pytest.fixture
def gimp_dir(template: Workspace, session_space: Workspace, request: pytest.FixtureRequest) -> Workspace:
    """A private copy of the template config dir."""
    copy = session_space.inside / f"config-{request.node.name}"
    host = session_space.host / f"config-{request.node.name}"
    shutil.copytree(template.host, host, symlinks=True)
    return Workspace(host, copy)


@pytest.fixture
def work(session_space: Workspace, request: pytest.FixtureRequest) -> Workspace:
    """This test's folder for batch scripts and records."""
    return session_space.sub(f"work-{request.node.name}")


@pytest.fixture(scope="session")
def endpoint(session_space: Workspace) -> Iterator[str]:
    """A real dream server (``reverie serve``, MobileNet, random weights, MAX_PIXELS) for the whole session."""
    with serving(session_space.host / "server.log", *SERVER_FLAGS, "--max-pixels", str(MAX_PIXELS)) as address:
        yield address


@pytest.fixture
def run_gimp(gimp: GimpInstall, gimp_dir: Workspace, work: Workspace) -> Callable[..., Record]:
    """``run_gimp(code, path=...)``: one GIMP batch in this test's config dir and workspace."""

    def run(code: str, path: str = GIMP_PATH) -> Record:
        return run_batch(gimp, gimp_dir, work, code, path)

    return run


@pytest.fixture
def run_gimp_ui(gimp: GimpInstall, gimp_dir: Workspace, work: Workspace) -> Callable[..., Record]:
    """``run_gimp_ui(code, steps, screen=..., extra_env=...)``: one GIMP batch with its UI on Xvfb, xdotool
    playing ``steps``."""

    def run(code: str, steps: list[tuple[str, str]], **display: Any) -> Record:
        return run_gui_batch(gimp, gimp_dir, work, code, GIMP_PATH, steps, **display)

    return run


@pytest.fixture
def launcher_bridge(work: Workspace, session_space: Workspace) -> Iterator[tuple[str, LauncherBridge]]:
    """A ``reverie`` shim for GIMP's PATH that starts real servers on the host; yields GIMP's PATH."""
    name = "bridge.sock"  # in the session folder: a Unix socket's path must stay under 108 bytes
    bridge = LauncherBridge(session_space.host / name, REVERIE, SERVER_FLAGS)
    write_shim(work.host / "bin", session_space.inside / name)
    try:
        yield f"{work.inside / 'bin'}:{GIMP_PATH}", bridge
    finally:
        bridge.close()
