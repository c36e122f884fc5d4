"""When the dream server is idle, asked over raw ZeroMQ (pyzmq and the standard library only): GIMP's batch
(gimp_side) and the screen watcher (pane_watch) both use it, and neither has a Reverie client.

The harness copies this file into each test's workspace, beside gimp_side.py and pane_watch.py.
"""

from __future__ import annotations

import json
import time

POLL_SECONDS = 0.02


def server_idle_at(endpoint: str, timeout: float = 10.0) -> float | None:
    """The wall-clock time at which the dream server first says it runs and queues nothing (hello), asked
    every 20 ms; None if it does not within ``timeout``."""
    import zmq

    deadline = time.monotonic() + timeout
    with zmq.Context() as context, context.socket(zmq.DEALER) as socket:
        socket.linger = 0
        socket.connect(endpoint)
        while time.monotonic() < deadline:
            socket.send_multipart([b"", json.dumps({"v": 1, "type": "hello", "req": "idle"}).encode()])
            reply: dict = {}
            while reply.get("req") != "idle" and socket.poll(2000):
                reply = json.loads(socket.recv_multipart()[-1])
            facts = reply.get("server")
            if facts is not None and facts["running"] is None and facts["queue"] == 0:
                return time.time()
            time.sleep(POLL_SECONDS)
    return None
