"""The dream server's peak memory under each attack of the hardening review, one fresh server per attack.

Run by hand (not collected by pytest): ``.venv/bin/python tests/bench/attack_memory.py [ATTACK ...]``. The server
runs from whatever ``reverie`` package ``PYTHONPATH`` names, so the same attacks measure an older tree too:
``PYTHONPATH=/old/tree/server python tests/bench/attack_memory.py``. Prints, per attack, the server's resident
memory when ready and its peak (VmHWM) once the attack is over, and whether it still answers ``hello``.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))

import zmq
from attacks import header, memory, reset_peak, unfinished_message
from server_harness import Server, start_server

from reverie.client import DreamClient, ServerNotRunning

MB = 1 << 20
# 4 megapixels: the largest frame the server takes (f32 RGBA) is 64 MB.
MAX_PIXELS = 4_000_000
FRAME = 64 * 1000 * 1000


def many_frames(server: Server) -> str:
    """One complete message of 24 frames of 64 MB (each under MAXMSGSIZE)."""
    with zmq.Context() as context, context.socket(zmq.DEALER) as socket:
        socket.linger = 0
        socket.connect(server.endpoint)
        socket.send_multipart([b"", header(type="hello", req="h"), *[bytes(FRAME)] * 24], copy=False)
        reply = socket.poll(30_000)
    return f"answered: {bool(reply)}"


def unfinished(server: Server) -> str:
    """24 frames of 64 MB of a message that never ends."""
    sent = unfinished_message(server.endpoint, FRAME, 24)
    return f"frames sent before the server cut: {sent} of 24"


def big_header(server: Server) -> str:
    """A 60 MB first frame (where a 64 KiB header belongs) and an image frame."""
    with zmq.Context() as context, context.socket(zmq.DEALER) as socket:
        socket.linger = 0
        socket.connect(server.endpoint)
        socket.send_multipart([b"", bytes(60 * MB)], copy=False)
        reply = socket.poll(30_000)
    return f"answered: {bool(reply)}"


ATTACKS: dict[str, Callable[[Server], str]] = {
    "many_frames": many_frames,
    "unfinished": unfinished,
    "big_header": big_header,
}


def still_serves(endpoint: str) -> bool:
    with DreamClient(endpoint, timeout=5, retries=1) as client:
        try:
            return client.hello()["state"] == "ready"
        except ServerNotRunning:
            return False


def measure(name: str) -> None:
    """One fresh server, one attack: its memory before and at the peak, and whether it still serves."""
    with tempfile.TemporaryDirectory() as home:
        server = start_server(Path(home), "--max-pixels", str(MAX_PIXELS))
        try:
            reset_peak(server.process.pid)
            ready = memory(server.process.pid)["VmRSS"]
            outcome = ATTACKS[name](server)
            peak = memory(server.process.pid)["VmHWM"]
            print(
                f"{name:>14}: ready {ready / MB:,.0f} MiB, peak {peak / MB:,.0f} MiB (+{(peak - ready) / MB:,.0f}); "
                f"{outcome}; still serves: {still_serves(server.endpoint)}",
                flush=True,
            )
        finally:
            server.stop()


if __name__ == "__main__":
    for attack in sys.argv[1:] or ATTACKS:
        measure(attack)
