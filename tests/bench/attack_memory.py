"""The dream server's peak memory under each attack of the hardening review, one fresh server per attack.

Run by hand (not collected by pytest): ``.venv/bin/python tests/bench/attack_memory.py [ATTACK ...]``. The server
runs from whatever ``reverie`` package ``PYTHONPATH`` names, so the same attacks measure an older tree too:
``PYTHONPATH=/old/tree/server python tests/bench/attack_memory.py``. Prints, per attack, the server's resident
memory when ready and its peak (VmHWM) once the attack is over, and whether it still answers ``hello``.
"""

from __future__ import annotations

import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))

import zmq
from attacks import header, memory, raw_peer, reset_peak, unfinished_message
from server_harness import TINY, Server, start_server

from reverie_wire.client import DreamClient
from reverie_wire.errors import ClientError, ServerNotRunning

MB = 1 << 20
# 4 megapixels: the largest frame the server takes (f32 RGBA) is 64 MB.
MAX_PIXELS = 4_000_000
FRAME = 64 * 1000 * 1000
# The attack that once reached 8 GiB is stopped here.
KILL_AT = 4 << 30


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


def never_reads(server: Server) -> str:
    """16 dreams of 700x700 f32 RGBA (7.8 MB each way) from a peer that keeps its connection alive but reads
    nothing, until the server has no job left."""
    side = 700
    fields = {"width": side, "height": side, "channels": 4, "dtype": "f32"}
    pixels = bytes(side * side * 16)
    with raw_peer(server.endpoint, receive_buffer=16 * 1024) as peer, DreamClient(server.endpoint) as watcher:
        for number in range(16):
            peer.send_frame(b"")
            peer.send_frame(header(type="dream", job=f"n{number}", params={**TINY, "seed": 1}, image=fields))
            peer.send_frame(pixels, more=False)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            peer.ping()
            facts = watcher.hello()
            if facts["queue"] == 0 and facts["running"] is None and facts["jobs_done"] > 0:
                break
            time.sleep(0.3)
        return f"jobs done {facts['jobs_done']}"


def near_equal_weights(server: Server) -> str:
    """100 jobs whose layer weights differ by 1e-6."""
    pixels = bytes(96 * 96 * 3)
    with DreamClient(server.endpoint, timeout=60) as client:
        for number in range(100):
            params = {**TINY, "seed": 1, "layers": {"conv_pw_7_relu": 0.7 + number * 1e-6}}
            client.run(pixels, width=96, height=96, channels=3, dtype="u8", params=params)
    return "100 jobs done"


def repeated_channel(server: Server) -> str:
    """One 1000x1000 job whose channel list repeats one channel 30,000 times (what a 60 KiB header holds); the server is
    killed if it passes KILL_AT, this machine being shared."""
    side = 1000
    pixels = bytes(side * side * 3)
    params = {**TINY, "seed": 1, "channels": {"conv_pw_7_relu": [3] * 30_000}}
    killed = threading.Event()

    def watch() -> None:
        while server.process.poll() is None:
            if memory(server.process.pid).get("VmRSS", 0) > KILL_AT:
                killed.set()
                server.process.kill()
                return
            time.sleep(0.05)

    threading.Thread(target=watch, daemon=True).start()
    with DreamClient(server.endpoint, timeout=600) as client:
        try:
            client.run(pixels, width=side, height=side, channels=3, dtype="u8", params=params)
        except ClientError as error:
            return f"killed past {KILL_AT / MB:,.0f} MiB" if killed.is_set() else f"failed: {error}"
    return "done"


def overflowing_numbers(server: Server) -> str:
    """5000 dreams with "steps": 10**400; what the log grew by."""
    before = server.log.stat().st_size
    fields = {"width": 100, "height": 100, "channels": 1, "dtype": "u8"}
    with zmq.Context() as context, context.socket(zmq.DEALER) as socket:
        socket.linger = 0
        socket.connect(server.endpoint)
        for number in range(5000):
            request = header(type="dream", job=f"j{number}", params={**TINY, "steps": 10**400}, image=fields)
            socket.send_multipart([b"", request, bytes(10_000)])
            socket.poll(10_000)
            socket.recv_multipart()
    text = server.log.read_text()
    return f"log grew {server.log.stat().st_size - before:,} bytes, {text.count('Traceback')} tracebacks"


def claimed_ids(server: Server) -> str:
    """200 peers claiming the routing ids an unseeded libzmq hands out first, then 5 ordinary clients."""
    with zmq.Context() as context:
        claimed = []
        for number in range(200):
            socket = context.socket(zmq.DEALER)
            socket.linger = 0
            socket.setsockopt(zmq.ROUTING_ID, b"\x00" + (0x6B8B4567 + number).to_bytes(4, "big"))
            socket.connect(server.endpoint)
            socket.send_multipart([b"", header(type="hello", req="claim")])
            claimed.append(socket)
        answered = sum(still_serves(server.endpoint) for _ in range(5))
        for socket in claimed:
            socket.close()
    return f"ordinary clients answered: {answered} of 5; server alive: {server.process.poll() is None}"


ATTACKS: dict[str, Callable[[Server], str]] = {
    "many_frames": many_frames,
    "unfinished": unfinished,
    "big_header": big_header,
    "never_reads": never_reads,
    "near_equal_weights": near_equal_weights,
    "repeated_channel": repeated_channel,
    "overflowing_numbers": overflowing_numbers,
    "claimed_ids": claimed_ids,
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
            if server.process.poll() is not None:
                print(f"{name:>19}: the server died (exit {server.process.returncode}); {outcome}", flush=True)
                return
            peak = memory(server.process.pid)["VmHWM"]
            print(
                f"{name:>19}: ready {ready / MB:,.0f} MiB, peak {peak / MB:,.0f} MiB (+{(peak - ready) / MB:,.0f}); "
                f"{outcome}; still serves: {still_serves(server.endpoint)}",
                flush=True,
            )
        finally:
            if server.process.poll() is None:
                server.stop()


if __name__ == "__main__":
    for attack in sys.argv[1:] or ATTACKS:
        measure(attack)
