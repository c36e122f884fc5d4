"""Round-trip overhead of the dream server, and how fast it notices a vanished client.

Run by hand (not collected by pytest): ``.venv/bin/python tests/bench/server_roundtrip.py``.
Starts a real ``reverie serve`` (MobileNet, random weights) on loopback and prints:

- for a 4000x3000 RGBA 8-bit image and a tiny dream (1 octave, 1 step): the client's wall time,
  the server's job time and the engine's time; overhead = wall - engine (transfer both ways,
  validation, pixel conversion, queueing);
- the time from ``kill -9`` of a client in mid-job until the server has cancelled its job.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))

from server_harness import KILLED_CLIENT, image, layout, start_server

from reverie_wire.client import DreamClient

TINY = {"model": "mobilenet", "octaves": 1, "steps": 1, "seed": 1}
RUNS = 5


def round_trip(endpoint: str, width: int, height: int) -> None:
    pixels = image(width, height, 4, "u8", seed=1)
    raw = pixels.tobytes()
    rows = []
    with DreamClient(endpoint, timeout=60) as client:
        client.run(raw, params=TINY, **layout(pixels))  # warm-up: the engine compiles for this shape
        for _ in range(RUNS):
            started = time.perf_counter()
            result = client.run(raw, params=TINY, **layout(pixels))
            rows.append((time.perf_counter() - started, result.seconds, result.engine_seconds))
    wall, server, engine = (statistics.median(column) for column in zip(*rows, strict=True))
    print(
        f"{width}x{height} RGBA u8 ({len(raw) / 1e6:.0f} MB each way), median of {RUNS}: wall {wall:.3f} s, "
        f"server {server:.3f} s, engine {engine:.3f} s -> overhead {wall - engine:.3f} s "
        f"(in the server {server - engine:.3f} s, transfer {wall - server:.3f} s)"
    )


def dead_client_latency(endpoint: str) -> float:
    with DreamClient(endpoint) as client:
        before = client.hello()["jobs_cancelled"]
        victim = subprocess.Popen(
            [sys.executable, "-c", KILLED_CLIENT, endpoint], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        victim.stdout.readline()
        killed = time.monotonic()
        victim.kill()
        victim.wait()
        while client.hello()["jobs_cancelled"] == before:
            if time.monotonic() - killed > 10:
                raise SystemExit("the server did not cancel the dead client's job within 10 s")
        latency = time.monotonic() - killed
        victim.stdin.close()
        victim.stdout.close()
        return latency


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="reverie-bench-") as home:
        server = start_server(Path(home))
        try:
            print(f"device: {server.facts()['device']}")
            round_trip(server.endpoint, 4000, 3000)
            round_trip(server.endpoint, 1000, 750)
            latencies = sorted(dead_client_latency(server.endpoint) for _ in range(5))
            print(f"dead client's job cancelled after: {', '.join(f'{s:.2f}' for s in latencies)} s")
        finally:
            server.stop()


if __name__ == "__main__":
    main()
