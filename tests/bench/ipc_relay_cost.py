"""What the ``ipc://`` relay costs a normal dream: the same server reached through its relay and straight at the
ROUTER behind it, alternating, from one process.

Run by hand (not collected by pytest): ``.venv/bin/python tests/bench/ipc_relay_cost.py``. Starts a real
``reverie serve`` (MobileNet, random weights) on an ``ipc://`` endpoint, finds the ROUTER's private socket among the
server's own (``/proc/net/unix``; same user, so reachable) and prints, for each path, the median latency of a small
dream (64×64, one step) and the overhead (wall time less the engine's) of a 2048×2048 RGBA 8-bit dream (16.8 MB
each way).
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))

from server_harness import image, layout, start_server

from reverie_wire.client import DreamClient

TINY = {"model": "mobilenet", "octaves": 1, "steps": 1, "seed": 1}
SMALL_RUNS, LARGE_RUNS = 40, 6


def router_endpoint(pid: int) -> str:
    """The ipc endpoint the server's ROUTER listens on behind its relay: a socket of the server's in a private
    ``reverie-`` folder."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        target = os.readlink(fd)
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    for line in Path("/proc/net/unix").read_text().splitlines()[1:]:
        fields = line.split()
        if len(fields) == 8 and fields[6] in inodes and fields[7].endswith("/router"):
            return f"ipc://{fields[7]}"
    raise SystemExit("no ROUTER socket behind a relay: is this tree's server the one with ipc_relay?")


def timed(client: DreamClient, pixels: bytes, shape: dict[str, object]) -> tuple[float, float]:
    started = time.perf_counter()
    result = client.run(pixels, params=TINY, **shape)
    return time.perf_counter() - started, result.engine_seconds


def main() -> None:
    home = Path(tempfile.mkdtemp(prefix="relay-cost-"))
    server = start_server(home, endpoint=f"ipc://{home}/dream.sock")
    try:
        paths = {"relay": server.endpoint, "direct": router_endpoint(server.process.pid)}
        clients = {name: DreamClient(endpoint, timeout=120) for name, endpoint in paths.items()}
        for size, runs in ((64, SMALL_RUNS), (2048, LARGE_RUNS)):
            pixels = image(size, size, 4, "u8", seed=1)
            raw, shape = pixels.tobytes(), layout(pixels)
            for client in clients.values():
                timed(client, raw, shape)  # warm-up: the engine compiles for this shape
            rows: dict[str, list[tuple[float, float]]] = {name: [] for name in clients}
            for _ in range(runs):
                for name, client in clients.items():  # alternating: both paths see the same load
                    rows[name].append(timed(client, raw, shape))
            for name, measured in rows.items():
                wall = statistics.median(w for w, _ in measured)
                overhead = statistics.median(w - e for w, e in measured)
                print(
                    f"{size}x{size} RGBA u8 ({len(raw) / 1e6:.2f} MB each way) via {name}, median of {runs}: "
                    f"wall {wall * 1000:.1f} ms, wall less engine {overhead * 1000:.1f} ms",
                    flush=True,
                )
        for client in clients.values():
            client.close()
    finally:
        server.stop()


if __name__ == "__main__":
    main()
