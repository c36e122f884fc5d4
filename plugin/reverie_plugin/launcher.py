"""Starting a local dream server when none answers, without freezing the plug-in's progress bar.

``reverie start`` returns once the server answers; the plug-in waits for it in short slices and
calls ``tick`` between them, so GIMP keeps showing "Starting dream server…".
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable

from reverie_plugin.messages import PluginFailure
from reverie_wire.config import START_TIMEOUT

TICK_SECONDS = 0.1
OUTPUT_TAIL = 600


def find_launcher(recorded: str | None) -> str | None:
    """The ``reverie`` command: the installer's recorded path when it is there, else the one on PATH."""
    if recorded and os.access(recorded, os.X_OK):
        return recorded
    return shutil.which("reverie")


def start_command(launcher: str, endpoint: str) -> list[str]:
    """The command that starts a background server on ``endpoint``."""
    return [launcher, "start", "--endpoint", endpoint]


def start_server(command: list[str], tick: Callable[[], None], timeout: float = START_TIMEOUT) -> None:
    """Run ``command`` to its end, calling ``tick`` while it runs; raise PluginFailure unless it succeeds.

    Output goes to a file, not a pipe: the server it leaves running may keep inherited pipes open.
    """
    with tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace") as output:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while True:
            try:
                process.wait(TICK_SECONDS)
                break
            except subprocess.TimeoutExpired:
                if time.monotonic() > deadline:
                    process.kill()
                    process.wait()
                    raise PluginFailure(
                        f"'{' '.join(command)}' did not finish within {timeout:.0f} s; run it in a terminal "
                        "to see why the dream server does not start"
                    ) from None
                tick()
        if process.returncode != 0:
            output.seek(0)
            tail = output.read()[-OUTPUT_TAIL:].strip()
            raise PluginFailure(
                f"the dream server could not be started ('{' '.join(command)}' exited with "
                f"{process.returncode}): {tail or 'no output'}. Run it in a terminal to see more"
            )
