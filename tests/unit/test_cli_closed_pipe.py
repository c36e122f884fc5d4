"""The command line piped into a reader that has gone (``reverie status | head``): no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SERVER = Path(__file__).resolve().parents[2] / "server"


def test_a_closed_pipe_ends_the_command_quietly(tmp_path: Path) -> None:
    reader, writer = os.pipe()
    os.close(reader)  # gone before the command writes its first line
    env = {**os.environ, "HOME": str(tmp_path), "PYTHONPATH": str(SERVER), "XDG_RUNTIME_DIR": str(tmp_path)}
    try:
        ran = subprocess.run(
            [sys.executable, "-m", "reverie.cli", "status"], stdout=writer, stderr=subprocess.PIPE, env=env, timeout=120
        )
    finally:
        os.close(writer)
    assert ran.returncode == 141
    assert ran.stderr == b""
