"""Scale-out on Ray: a real two-node local Ray cluster (``ray.cluster_utils.Cluster``, one CPU a node), a dreamer on
each node (MobileNet, random weights) and ``reverie serve --cluster`` in front of them, used as any client uses one
server."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from server_harness import ENDLESS, TINY, Server, image, in_parallel, layout, reverie, start_server, wait_ready

from reverie_wire.client import Cancelled, DreamClient, Progress, Result, Strength
from reverie_wire.errors import Busy
from reverie_wire.images import Image

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        importlib.util.find_spec("ray") is None, reason="Ray is not installed (pip install 'reverie[cluster]')"
    ),
]

SERVER = Path(__file__).resolve().parents[2] / "server"
# A dream long enough to be caught running (a few seconds on a CI core), short enough to finish.
LONG = {"model": "mobilenet", "octaves": 1, "steps": 150, "max_loss": None, "jitter": 8, "seed": 77}
# Node deaths are noticed within about two seconds (Ray's default is about fifteen).
FAST_HEALTH_CHECKS = {
    "health_check_initial_delay_ms": 0,
    "health_check_period_ms": 500,
    "health_check_failure_threshold": 4,
}


@dataclass
class Studio:
    """The Ray cluster, and the front serving its dreamers."""

    cluster: Any
    front: Server

    def facts(self) -> dict[str, Any]:
        return self.front.facts()

    def dreamers(self) -> list[dict[str, Any]]:
        return self.facts()["dreamers"]


def _wait_for_dreamers(front: Server, count: int, timeout: float = 180) -> None:
    """Until ``count`` dreamers are ready (each loads its model in its own Ray worker)."""
    wait_ready(front.endpoint, front.process, front.log, timeout)  # the first dreamer is
    deadline = time.monotonic() + timeout
    with DreamClient(front.endpoint, timeout=2, retries=1) as client:
        while time.monotonic() < deadline:
            assert front.process.poll() is None, front.log.read_text()
            facts = client.hello()
            if sum(dreamer["state"] == "ready" for dreamer in facts.get("dreamers", [])) == count:
                return
            with contextlib.suppress(subprocess.TimeoutExpired):  # loading: wait on the process rather than spin
                front.process.wait(0.5)
    raise AssertionError(f"the dreamers did not all load within {timeout:.0f} s:\n{front.log.read_text()}")


@pytest.fixture(scope="module")
def studio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Studio]:
    from ray.cluster_utils import Cluster

    home = tmp_path_factory.mktemp("cluster")
    # Ray's worker processes inherit the nodes' environment: they import this checkout's reverie.
    saved = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SERVER), saved]))
    cluster = Cluster(
        initialize_head=True,
        head_node_args={"num_cpus": 1, "include_dashboard": False, "_system_config": FAST_HEALTH_CHECKS},
    )
    try:
        cluster.add_node(num_cpus=1)
        cluster.wait_for_nodes()
        front = start_server(home, "--cluster", cluster.address, "--max-queue", "4", wait=False)
        try:
            _wait_for_dreamers(front, 2)
            yield Studio(cluster, front)
        finally:
            if front.process.poll() is None:
                front.stop()
    finally:
        cluster.shutdown()
        if saved is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = saved


def _running(studio: Studio, job: str) -> dict[str, Any]:
    """The dreamer running ``job`` (it has sent progress, so one is)."""
    (dreamer,) = [dreamer for dreamer in studio.dreamers() if dreamer["running"] == job]
    return dreamer


def test_hello_names_the_dreamers_on_both_nodes(studio: Studio) -> None:
    facts = studio.facts()
    assert facts["state"] == "ready" and facts["cluster"] == studio.cluster.address
    assert [dreamer["name"] for dreamer in facts["dreamers"]] == ["dreamer-0", "dreamer-1"]
    assert len({dreamer["node"] for dreamer in facts["dreamers"]}) == 2, "one dreamer on each node"
    assert facts["device"] == "CPU"
    status = reverie("status", "--endpoint", studio.front.endpoint, env=os.environ.copy())
    assert status.returncode == 0 and "2 dreamers:" in status.stdout and "dreamer-1 on " in status.stdout, status


def test_ten_jobs_from_fresh_clients_use_both_dreamers(studio: Studio) -> None:
    before = {dreamer["name"]: dreamer["jobs_done"] for dreamer in studio.dreamers()}
    pixels = image(96, 96, 3, "u8")
    results = []
    for _ in range(10):  # one after another, each from a new client, as `reverie dream` sends them
        with DreamClient(studio.front.endpoint, timeout=30) as client:
            results.append(client.run(pixels.tobytes(), params={**TINY, "seed": 3}, **layout(pixels)).pixels)
    done = {dreamer["name"]: dreamer["jobs_done"] - before[dreamer["name"]] for dreamer in studio.dreamers()}
    assert sum(done.values()) == 10 and all(count >= 3 for count in done.values()), done
    assert len(set(results)) == 1, "every dreamer dreams a seeded job the same way"


def test_a_strength_map_travels_to_the_dreamer(studio: Studio) -> None:
    pixels = image(96, 96, 3, "u8", seed=4)
    strength = bytes(10) + bytes([255]) * 10  # one row, black then white: stretched over the picture
    with DreamClient(studio.front.endpoint, timeout=30) as client:
        result = client.run(
            pixels.tobytes(),
            params={**TINY, "seed": 3},
            strength=Strength(strength, 20, 1, 1, "u8"),
            **layout(pixels),
        )
    dreamed = np.frombuffer(result.pixels, np.uint8).reshape(pixels.shape).astype(int)
    change = np.abs(dreamed - pixels.astype(int))
    assert change[:, :32].max() <= 1 and change[:, 64:].mean() > 1


def test_a_clips_previous_frames_travel_to_the_dreamer(studio: Studio) -> None:
    previous = image(96, 96, 3, "u8", seed=5)
    pattern = np.zeros_like(previous)
    pattern[::8] = 120  # stripes the previous dream has and the sources have not
    previous_dream = np.clip(previous.astype(int) + pattern, 0, 255).astype(np.uint8)
    pictures = {
        "previous_source": Image(previous.tobytes(), **layout(previous)),
        "previous_dream": Image(previous_dream.tobytes(), **layout(previous_dream)),
    }
    params = {**TINY, "seed": 3, "steps": 1}
    with DreamClient(studio.front.endpoint, timeout=30) as client:
        carried = client.run(previous.tobytes(), params=params, **pictures, **layout(previous))
        alone = client.run(previous.tobytes(), params=params, **layout(previous))
    stripes = [
        np.frombuffer(result.pixels, np.uint8).reshape(previous.shape)[::8].mean() for result in (carried, alone)
    ]
    assert stripes[0] > stripes[1] + 30  # the carried frame starts from the previous dream's stripes


def test_a_short_job_is_not_held_up_by_a_long_one(studio: Studio) -> None:
    pixels = image(96, 96, 3, "u8")
    with DreamClient(studio.front.endpoint) as long_client, DreamClient(studio.front.endpoint) as short_client:
        long_job = long_client.submit(pixels.tobytes(), params=ENDLESS, **layout(pixels))
        long_events = long_client.events(long_job)
        assert isinstance(next(long_events), Progress)
        long_dreamer = _running(studio, long_job)["name"]
        result = short_client.run(pixels.tobytes(), params=TINY, **layout(pixels))
        assert isinstance(result, Result)
        assert _running(studio, long_job)["name"] == long_dreamer, "the long job still runs, where it ran"
        long_client.cancel(long_job)
        assert list(long_events)[-1] == Cancelled(long_job)


def test_cancel_and_stop_and_keep_reach_the_dreamer(studio: Studio) -> None:
    pixels = image(96, 96, 3, "u8")
    with DreamClient(studio.front.endpoint) as client:
        job = client.submit(pixels.tobytes(), params=ENDLESS, **layout(pixels))
        events = client.events(job)
        assert isinstance(next(events), Progress)
        client.cancel(job)
        assert list(events)[-1] == Cancelled(job)
        job = client.submit(pixels.tobytes(), params=ENDLESS, **layout(pixels))
        events = client.events(job)
        assert isinstance(next(events), Progress)
        client.stop(job)
        result = list(events)[-1]
        assert isinstance(result, Result) and result.partial is not None and result.partial["step"] >= 1
    assert all(dreamer["running"] is None for dreamer in studio.dreamers()), "both dreamers are free again"


def test_each_real_client_has_its_own_share(studio: Studio) -> None:
    share = studio.facts()["limits"]["max_jobs_per_client"]
    pixels = image(64, 64, 3, "u8")
    with DreamClient(studio.front.endpoint) as greedy, DreamClient(studio.front.endpoint) as other:
        jobs = [greedy.submit(pixels.tobytes(), params=ENDLESS, **layout(pixels)) for _ in range(share)]
        with pytest.raises(Busy):
            greedy.submit(pixels.tobytes(), params=ENDLESS, **layout(pixels))
        mine = other.submit(pixels.tobytes(), params=ENDLESS, **layout(pixels))  # the share is per client
        other.cancel(mine)
        assert list(other.events(mine))[-1] == Cancelled(mine)
        for job in jobs:
            greedy.cancel(job)
        assert [list(greedy.events(job))[-1] for job in jobs] == [Cancelled(job) for job in jobs]


def test_reverie_dream_spreads_a_batch_of_files_over_the_dreamers(studio: Studio, tmp_path: Path) -> None:
    from PIL import Image

    sources = []
    for number in range(4):
        sources.append(tmp_path / f"picture-{number}.png")
        Image.fromarray(image(96, 80, 3, "u8", seed=number)).save(sources[-1])
    folder = tmp_path / "dreams"
    folder.mkdir()
    before = {dreamer["name"]: dreamer["jobs_done"] for dreamer in studio.dreamers()}
    dream = [*("--model", "mobilenet", "--weights", "random", "--octaves", "1", "--steps", "20", "--seed", "4")]
    command = [sys.executable, "-m", "reverie.cli", "dream", *map(str, sources), "-o", f"{folder}/"]
    run = subprocess.run(
        [*command, "--server", studio.front.endpoint, *dream], capture_output=True, text=True, timeout=300, check=False
    )
    assert run.returncode == 0, run.stderr
    assert sorted(path.name for path in folder.iterdir()) == [source.name for source in sources], run.stderr
    assert "dreamt 4 of 4 files over 2 dreamers" in run.stdout
    done = {dreamer["name"]: dreamer["jobs_done"] - before[dreamer["name"]] for dreamer in studio.dreamers()}
    assert sum(done.values()) == 4 and all(done.values()), f"both dreamers dreamt some of the files: {done}"


def test_a_job_whose_dreamer_dies_runs_again_and_ray_brings_the_dreamer_back(studio: Studio) -> None:
    pixels = image(96, 96, 3, "u8")
    with DreamClient(studio.front.endpoint) as client:
        reference = client.run(pixels.tobytes(), params=LONG, **layout(pixels))
        job = client.submit(pixels.tobytes(), params=LONG, **layout(pixels))
        events = client.events(job)
        assert isinstance(next(events), Progress)
        killed = _running(studio, job)
        os.kill(killed["pid"], signal.SIGKILL)
        result = list(events)[-1]
    assert isinstance(result, Result) and result.pixels == reference.pixels, "the same seed, the same dream"
    assert any(killed["name"] in note and "lost" in note for note in result.notes), result.notes
    _wait_for_dreamers(studio.front, 2)  # Ray restarted it, and it loaded its model again
    (back,) = [dreamer for dreamer in studio.dreamers() if dreamer["name"] == killed["name"]]
    assert back["pid"] != killed["pid"]


def test_a_job_whose_node_is_removed_runs_again_elsewhere_and_the_front_serves_on(studio: Studio) -> None:
    """Last: it takes a node away. Two equal seeded jobs run, one on each node; the worker node goes mid-dream."""
    pixels = image(96, 96, 3, "u8")
    head_id = studio.cluster.head_node.node_id
    results: dict[str, Result] = {}
    dreaming = [threading.Event(), threading.Event()]
    lost: dict[str, Any] = {}

    def one(number: int) -> None:
        with DreamClient(studio.front.endpoint) as client:
            job = client.submit(pixels.tobytes(), params=LONG, **layout(pixels))
            for event in client.events(job):
                if isinstance(event, Progress):
                    dreaming[number].set()
                if isinstance(event, Result):
                    results[job] = event

    def remove_the_worker_node(number: int) -> None:
        if number < 2:
            one(number)
            return
        assert all(started.wait(120) for started in dreaming), "both jobs must start"
        assert not results, "the jobs ended before the node could be removed; make LONG longer"
        (on_worker,) = [dreamer for dreamer in studio.dreamers() if dreamer["node"] != head_id]
        assert on_worker["running"] is not None, "each dreamer runs one of the jobs"
        (node,) = [node for node in studio.cluster.worker_nodes if node.node_id == on_worker["node"]]
        studio.cluster.remove_node(node, allow_graceful=False)
        lost.update(on_worker)

    in_parallel(remove_the_worker_node, 3, timeout=600)
    first, second = results.values()
    assert first.pixels == second.pixels, "the job run again is the same dream (same seed, same picture)"
    assert any(lost["name"] in note and "lost" in note for note in (*first.notes, *second.notes))
    states = {dreamer["name"]: dreamer["state"] for dreamer in studio.dreamers()}
    assert states[lost["name"]] == "lost" and "ready" in states.values()
    with DreamClient(studio.front.endpoint, timeout=30) as client:  # the front serves on, on the dreamer left
        assert isinstance(client.run(pixels.tobytes(), params=TINY, **layout(pixels)), Result)
