"""Scale-out: two real servers behind ``reverie broker`` (zmq.proxy), used exactly like one server."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from server_harness import (
    ENDLESS,
    TINY,
    Server,
    free_endpoint,
    image,
    in_parallel,
    layout,
    start_server,
    user_env,
    wait_ready,
)

from reverie_wire.client import Cancelled, DreamClient, Progress, Result


@pytest.fixture(scope="module")
def studio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, list[Server]]]:
    home = tmp_path_factory.mktemp("broker")
    # One server on TCP, one on a Unix socket: both transports serve, and the broker joins them.
    servers = [start_server(home, wait=False), start_server(home, endpoint=f"ipc://{home}/server.sock", wait=False)]
    front = free_endpoint()
    command = [sys.executable, "-m", "reverie.cli.server", "broker", "--endpoint", front]
    for server in servers:
        command += ["--backend", server.endpoint]
    broker = subprocess.Popen(command, env=user_env(home), stderr=subprocess.PIPE, text=True)
    try:
        for server in servers:
            wait_ready(server.endpoint, server.process, server.log)
        wait_ready(front, broker)
        yield front, servers
    finally:
        broker.terminate()
        broker.wait(10)
        broker.stderr.close()
        for server in servers:
            if server.process.poll() is None:
                server.stop()


def test_jobs_through_the_broker_are_shared_by_both_servers(studio: tuple[str, list[Server]]) -> None:
    front, servers = studio
    pixels = {number: image(96, 96, 3, "u8", seed=number) for number in range(3)}
    results: dict[tuple[int, int], bytes] = {}

    def one_client(number: int) -> None:
        with DreamClient(front, timeout=30) as client:
            for n in range(4):
                params = {**TINY, "seed": 10 + n}
                results[number, n] = client.run(
                    pixels[number].tobytes(), params=params, **layout(pixels[number])
                ).pixels

    in_parallel(one_client, 3)
    assert len(results) == 12
    done = [server.facts()["jobs_done"] for server in servers]
    assert all(count > 0 for count in done), f"both servers must have worked: {done}"
    with DreamClient(servers[0].endpoint) as direct:
        alone = direct.run(pixels[2].tobytes(), params={**TINY, "seed": 13}, **layout(pixels[2])).pixels
    assert alone == results[2, 3], "every server dreams the same seeded job the same way"


def test_cancel_reaches_the_right_server_through_the_broker(studio: tuple[str, list[Server]]) -> None:
    front, _ = studio
    pixels = image(96, 96, 3, "u8")
    with DreamClient(front) as client:
        for _ in range(2):  # two jobs, so one cancel is likely to land on the other server first
            job = client.submit(pixels.tobytes(), params=ENDLESS, **layout(pixels))
            events = client.events(job)
            assert isinstance(next(events), Progress)
            client.cancel(job)
            assert list(events)[-1] == Cancelled(job)


def test_a_client_closing_mid_job_stops_its_job_whichever_server_runs_it(studio: tuple[str, list[Server]]) -> None:
    front, servers = studio
    pixels = image(96, 96, 3, "u8")
    for _ in range(4):  # a cancel sent once used to reach the job's server half the time
        client = DreamClient(front)
        job = client.submit(pixels.tobytes(), params=ENDLESS, **layout(pixels))
        assert isinstance(next(client.events(job)), Progress)
        client.close()  # one cancel on the way out
        deadline = time.monotonic() + 15
        while any(server.facts()["running"] for server in servers):
            assert time.monotonic() < deadline, "the job of a client that closed must stop"


def test_stop_and_keep_reaches_the_right_server_through_the_broker(studio: tuple[str, list[Server]]) -> None:
    front, _ = studio
    pixels = image(96, 96, 3, "u8")
    with DreamClient(front) as client:
        for _ in range(2):  # as for cancel: one stop is likely to land on the other server first
            job = client.submit(pixels.tobytes(), params=ENDLESS, **layout(pixels))
            events = client.events(job)
            assert isinstance(next(events), Progress)
            client.stop(job)
            result = list(events)[-1]
            assert isinstance(result, Result) and result.partial is not None and result.partial["step"] >= 1


def test_the_broker_refuses_to_face_the_network_without_keys(tmp_path: Path) -> None:
    port = free_endpoint().rsplit(":", 1)[1]
    command = [
        sys.executable,
        "-m",
        "reverie.cli.server",
        "broker",
        "--endpoint",
        f"tcp://0.0.0.0:{port}",
        "--backend",
        "tcp://127.0.0.1:1",
    ]
    refused = subprocess.run(command, env=user_env(tmp_path), capture_output=True, text=True, timeout=60, check=False)
    assert refused.returncode == 1 and "refusing to listen" in refused.stderr
