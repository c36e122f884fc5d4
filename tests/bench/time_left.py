"""How far the time-left estimate is off, dream after dream, through one real server.

Run by hand (not collected by pytest): ``.venv/bin/python tests/bench/time_left.py --dreams 4``.
Starts ``reverie serve`` (InceptionV3, random weights) on loopback, sends default dreams of a random
1024×768 picture one after another (and, with ``--photo N``, N dreams of a 4000×3000 one at the medium pattern
size), and prints for each the estimate against the truth (the time until the result arrived) at a quarter, the
middle and three quarters of its time. A first dream of a size weighs pixels; later ones go by the times the
server remembered (see ``reverie.engine.eta``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import TextIO

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))

from server_harness import image, layout, start_server

from reverie_wire.client import DreamClient, Progress, Result

MARKS = (0.25, 0.5, 0.75)


def one_dream(client: DreamClient, width: int, height: int, params: dict[str, object], trace: TextIO | None) -> str:
    """One dream's line: its wall time and the estimate's error at each of MARKS of it; with a ``trace``, a JSON
    line of its steps there: [seconds since it was sent, octave, step, estimate] each."""
    pixels = image(width, height, 3, "u8", seed=width)
    started = time.perf_counter()
    job = client.submit(pixels.tobytes(), params=params, **layout(pixels))
    readings: list[tuple[float, float, str]] = []  # (clock, estimate, where)
    for event in client.events(job):
        if isinstance(event, Progress) and event.seconds_left is not None:
            readings.append((time.perf_counter(), event.seconds_left, f"{event.octave}/{event.step}"))
        elif isinstance(event, Result):
            break
    ended = time.perf_counter()
    if trace is not None:
        steps = [[clock - started, *map(int, where.split("/")), estimate] for clock, estimate, where in readings]
        trace.write(json.dumps({"size": f"{width}x{height}", "seconds": ended - started, "steps": steps}) + "\n")
    parts = []
    for mark in MARKS:
        at = started + mark * (ended - started)
        clock, estimate, where = min(readings, key=lambda reading: abs(reading[0] - at))
        truth = ended - clock
        parts.append(
            f"{mark:.0%} (octave/step {where}): {estimate:6.1f} s for {truth:6.1f} s, {estimate / truth - 1:+.0%}"
        )
    return f"{width}x{height} {params.get('pattern_size', 'fine')}: {ended - started:6.1f} s; " + "; ".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dreams", type=int, default=4, help="default dreams of 1024×768")
    parser.add_argument("--photo", type=int, default=0, help="dreams of 4000×3000 at the medium pattern size")
    parser.add_argument("--trace", type=Path, help="a JSON line for each dream's steps, to try other estimates on")
    options = parser.parse_args()
    print(f"load average before: {' '.join(f'{load:.1f}' for load in os.getloadavg())}", flush=True)
    with tempfile.TemporaryDirectory(prefix="reverie-bench-") as home, contextlib.ExitStack() as stack:
        trace = None if options.trace is None else stack.enter_context(options.trace.open("w"))
        server = start_server(Path(home), "--model", "inception_v3", "--weights", "random")
        try:
            with DreamClient(server.endpoint, timeout=60) as client:
                for _ in range(options.dreams):
                    print(one_dream(client, 1024, 768, {"seed": 1}, trace), flush=True)
                for _ in range(options.photo):
                    print(one_dream(client, 4000, 3000, {"seed": 1, "pattern_size": "medium"}, trace), flush=True)
        finally:
            server.stop()
    print(f"load average after: {' '.join(f'{load:.1f}' for load in os.getloadavg())}")


if __name__ == "__main__":
    main()
