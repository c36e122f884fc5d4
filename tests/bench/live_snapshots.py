"""What live dreaming costs: a 512×512 dream with and without snapshots, on a real server per model.

Run by hand (not collected by pytest): ``.venv/bin/python tests/bench/live_snapshots.py [model ...]``.
Starts ``reverie serve`` with random weights for each model (default: mobilenet and inception_v3) and,
alternating plain and live jobs (snapshots every 250 ms, at most 512 px a side) with one seed, prints the
median engine and wall time of each, the overhead in per cent, the time from submitting a live job to its
first snapshot, how many snapshots a job got and their size in bytes. On a shared machine those timings
move by several per cent from run to run, so it also dreams once in this process and times the snapshots'
own work (reading the image, resizing, converting to u8) as a share of the dream: the worker's cost exactly.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))

from server_harness import layout, start_server

from reverie_wire.client import DreamClient, Result, Snapshot
from reverie_wire.snapshots import SnapshotRequest

REPO = Path(__file__).resolve().parents[2]
RUNS = 3
SIDE = 512
LIVE = SnapshotRequest(every_ms=250, max_side=512)


def picture() -> np.ndarray:
    with Image.open(REPO / "samples" / "astronaut.jpg") as photo:
        return np.asarray(photo.convert("RGB").resize((SIDE, SIDE)))


def one_job(client: DreamClient, pixels: np.ndarray, params: dict, live: bool) -> dict:
    started = time.perf_counter()
    job = client.submit(pixels.tobytes(), params=params, snapshots=LIVE if live else None, **layout(pixels))
    first, shots, sizes = None, 0, set()
    for event in client.events(job):
        if isinstance(event, Snapshot):
            first = first if first is not None else time.perf_counter() - started
            shots += 1
            sizes.add(len(event.pixels))
        elif isinstance(event, Result):
            return {
                "wall": time.perf_counter() - started,
                "engine": event.engine_seconds,
                "first": first,
                "shots": shots,
                "sizes": sizes,
            }
    raise RuntimeError(f"job {job} ended without a result")


def measure(model: str) -> None:
    pixels = picture()
    params = {"model": model, "seed": 701028867}
    with tempfile.TemporaryDirectory() as home:
        server = start_server(Path(home), "--model", model)
        try:
            with DreamClient(server.endpoint, timeout=120) as client:
                one_job(client, pixels, params, live=True)  # warm-up: compiles for this size
                rows: dict[bool, list[dict]] = {False: [], True: []}
                for _ in range(RUNS):
                    for live in (False, True):
                        rows[live].append(one_job(client, pixels, params, live))
        finally:
            server.stop()
    plain, live = rows[False], rows[True]
    engine = [statistics.median(row["engine"] for row in rows[flag]) for flag in (False, True)]
    wall = [statistics.median(row["wall"] for row in rows[flag]) for flag in (False, True)]
    print(
        f"{model} {SIDE}² random weights, median of {RUNS}: engine {engine[0]:.2f} s plain, {engine[1]:.2f} s live "
        f"({100 * (engine[1] / engine[0] - 1):+.1f} %); wall {wall[0]:.2f} s plain, {wall[1]:.2f} s live "
        f"({100 * (wall[1] / wall[0] - 1):+.1f} %); first snapshot after "
        f"{statistics.median(row['first'] for row in live):.2f} s; "
        f"{statistics.median(row['shots'] for row in live):.0f} snapshots a job of "
        f"{sorted(set().union(*(row['sizes'] for row in live)))} bytes; plain jobs got "
        f"{sum(row['shots'] for row in plain)} snapshots"
    )


def snapshot_share(model_name: str) -> None:
    """The time spent making snapshots during one in-process dream, as a share of the dream's time."""
    from reverie.engine import DreamParams, dream, load_model
    from reverie.serving.live_images import LiveJob

    model = load_model(model_name, weights="random")
    source = picture().astype(np.float32) / 255.0
    params = DreamParams(model=model_name, seed=701028867)
    dream(source, params, model)  # warm-up
    spent, made = [0.0], [0]

    def count(_fields: dict, _pixels: np.ndarray) -> None:
        made[0] += 1

    live = LiveJob(LIVE, source, count)

    def offer(step: object) -> None:
        started = time.perf_counter()
        live.offer(step)
        spent[0] += time.perf_counter() - started

    result = dream(source, params, model, progress=offer)
    print(
        f"{model_name} {SIDE}² in process: {made[0]} snapshots took {spent[0] * 1000:.0f} ms of a "
        f"{result.seconds:.2f} s dream ({100 * spent[0] / result.seconds:.2f} %, "
        f"{spent[0] * 1000 / max(1, made[0]):.1f} ms each)"
    )


if __name__ == "__main__":
    for name in sys.argv[1:] or ["mobilenet", "inception_v3"]:
        snapshot_share(name)
        measure(name)
