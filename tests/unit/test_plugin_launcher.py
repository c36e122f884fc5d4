"""Finding and running ``reverie start`` from the plug-in."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from reverie_plugin import launcher
from reverie_plugin.messages import PluginFailure


def executable(path: Path, text: str = "#!/bin/sh\nexit 0\n") -> Path:
    path.write_text(text)
    path.chmod(0o755)
    return path


def test_recorded_launcher_wins_when_it_exists(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    recorded = executable(tmp_path / "recorded")
    on_path = tmp_path / "bin"
    on_path.mkdir()
    executable(on_path / "reverie")
    monkeypatch.setenv("PATH", str(on_path))
    assert launcher.find_launcher(str(recorded)) == str(recorded)
    assert launcher.find_launcher(str(tmp_path / "gone")) == str(on_path / "reverie")
    assert launcher.find_launcher(None) == str(on_path / "reverie")


def test_nothing_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert launcher.find_launcher(None) is None


def test_start_command() -> None:
    assert launcher.start_command("/x/reverie", "tcp://127.0.0.1:7") == [
        "/x/reverie",
        "start",
        "--endpoint",
        "tcp://127.0.0.1:7",
    ]


def test_success_ticks_while_waiting(tmp_path: Path) -> None:
    ticks = []
    # The child waits until the first tick has happened, so at least one tick is certain.
    flag = tmp_path / "ticked"
    script = f"import os, time\nwhile not os.path.exists({str(flag)!r}): time.sleep(0.01)\n"
    launcher.start_server([sys.executable, "-c", script], lambda: (ticks.append(1), flag.touch()))
    assert ticks


def test_failure_reports_the_commands_output() -> None:
    command = [sys.executable, "-c", "import sys; print('weights missing: put them in ~/x'); sys.exit(3)"]
    with pytest.raises(PluginFailure, match=r"exited with 3\): weights missing: put them in ~/x"):
        launcher.start_server(command, lambda: None)


def test_a_command_that_hangs_is_killed_after_the_timeout() -> None:
    command = [sys.executable, "-c", "import time; time.sleep(60)"]
    with pytest.raises(PluginFailure, match="did not finish within"):
        launcher.start_server(command, lambda: None, timeout=0.3)


def test_a_background_child_holding_stdout_does_not_block(tmp_path: Path) -> None:
    """``reverie start`` leaves a server running; it must not keep the plug-in waiting on a pipe."""
    pid_file = tmp_path / "pid"
    script = (
        "import subprocess, sys\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(30)'])\n"
        f"open({str(pid_file)!r}, 'w').write(str(child.pid))\n"
    )
    try:
        launcher.start_server([sys.executable, "-c", script], lambda: None, timeout=20)
    finally:
        os.kill(int(pid_file.read_text()), 9)
