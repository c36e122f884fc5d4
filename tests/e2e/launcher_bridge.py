"""A ``reverie`` command for GIMP's side that runs the real ``reverie`` on the test host.

GIMP may run in a chroot that has no TensorFlow, so the plug-in's auto-start cannot run the server
there. The shim it finds on PATH forwards its arguments over a Unix socket (visible inside the chroot
through the shared workspace) to this bridge, which runs the host's real ``reverie`` with them,
small-model flags added, and answers with the exit code and output.
"""

from __future__ import annotations

import json
import socketserver
import subprocess
import threading
from collections.abc import Sequence
from pathlib import Path

SHIM = """#!/usr/bin/python3
import json, socket, sys
link = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
link.connect({socket!r})
link.sendall(json.dumps(sys.argv[1:]).encode())
link.shutdown(socket.SHUT_WR)
reply = json.loads(b"".join(iter(lambda: link.recv(65536), b"")))
sys.stdout.write(reply["output"])
sys.exit(reply["code"])
"""
COMMAND_TIMEOUT = 180


class LauncherBridge:
    """Serves shim calls: ``reverie ARGS`` → ``command ARGS extra``; remembers every call it ran."""

    def __init__(self, socket_path: Path, command: Sequence[str], extra: Sequence[str]) -> None:
        self.calls: list[list[str]] = []
        bridge = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                args = json.loads(self.rfile.read())
                bridge.calls.append(args)
                completed = subprocess.run(
                    [*command, *args, *extra],
                    capture_output=True,
                    text=True,
                    timeout=COMMAND_TIMEOUT,
                    check=False,
                )
                reply = {"code": completed.returncode, "output": completed.stdout + completed.stderr}
                self.wfile.write(json.dumps(reply).encode())

        self._server = socketserver.UnixStreamServer(str(socket_path), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


def write_shim(bin_dir: Path, socket_inside: Path) -> Path:
    """An executable ``reverie`` in ``bin_dir`` that talks to the bridge at ``socket_inside`` (GIMP's path)."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    shim = bin_dir / "reverie"
    shim.write_text(SHIM.format(socket=str(socket_inside)))
    shim.chmod(0o755)
    return shim
