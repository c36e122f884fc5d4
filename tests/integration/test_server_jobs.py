"""Jobs through a real server process: round trips, layouts, errors, cancelling, dead clients, concurrency."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from server_harness import ENDLESS, KILLED_CLIENT, TINY, Server, image, in_parallel, layout, start_server

from reverie_wire.client import Cancelled, DreamClient, Progress, Queued, Result, Strength
from reverie_wire.errors import Busy, ReverieError

MAX_QUEUE = 8


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = start_server(tmp_path_factory.mktemp("jobs"), "--max-queue", str(MAX_QUEUE))
    yield server
    assert server.stop() == 0


def decode(result: Result) -> np.ndarray:
    dtype = {"u8": np.uint8, "u16": np.uint16, "f32": np.float32}[result.dtype]
    return np.frombuffer(result.pixels, dtype).reshape(result.height, result.width, result.channels)


def test_round_trip_streams_progress_in_order_and_honours_the_seed(server: Server) -> None:
    pixels = image(160, 120, 4, "u8", seed=1)
    params = {**TINY, "steps": 8, "seed": 1234}
    with server.client() as client:
        job = client.submit(pixels.tobytes(), params=params, **layout(pixels))
        *progress, result = list(client.events(job))
        again = client.run(pixels.tobytes(), params=params, **layout(pixels))
        other = client.run(pixels.tobytes(), params={**params, "seed": 99}, **layout(pixels))
    assert isinstance(result, Result) and result.job_id == job
    assert progress and all(isinstance(event, Progress) and event.job_id == job for event in progress)
    steps = [(event.octave, event.step) for event in progress]
    assert steps == sorted(steps) and len(set(steps)) == len(steps)
    assert all(0 < event.fraction <= 1 and event.steps == 8 and event.tiles >= 1 for event in progress)
    assert all(event.seconds_left is not None and event.seconds_left >= 0 for event in progress)
    assert result.seed == 1234 and (result.width, result.height, result.channels, result.dtype) == (160, 120, 4, "u8")
    dreamed = decode(result)
    assert np.array_equal(dreamed[..., 3], pixels[..., 3]), "alpha must come back bit-exact"
    assert not np.array_equal(dreamed[..., :3], pixels[..., :3]), "the colours must have been dreamed on"
    assert 0 < result.engine_seconds <= result.seconds
    assert again.pixels == result.pixels, "the same seed must give the same dream"
    assert other.pixels != result.pixels


def test_a_seed_chosen_by_the_server_is_reported_and_repeatable(server: Server) -> None:
    pixels = image(96, 96, 3, "u8", seed=2)
    with server.client() as client:
        first = client.run(pixels.tobytes(), params=TINY, **layout(pixels))
        again = client.run(pixels.tobytes(), params={**TINY, "seed": first.seed}, **layout(pixels))
    assert again.seed == first.seed and again.pixels == first.pixels


@pytest.mark.parametrize(("channels", "dtype"), [(1, "u16"), (2, "f32"), (3, "u8"), (4, "u16")])
def test_every_layout_comes_back_in_its_own_layout(server: Server, channels: int, dtype: str) -> None:
    pixels = image(96, 96, channels, dtype, seed=channels)
    with server.client() as client:
        result = client.run(pixels.tobytes(), params={**TINY, "seed": 5}, **layout(pixels))
    assert (result.channels, result.dtype) == (channels, dtype)
    dreamed = decode(result)
    assert dreamed.shape == pixels.shape
    if channels in (2, 4):
        assert np.array_equal(dreamed[..., -1], pixels[..., -1])


def test_a_strength_map_keeps_the_unpainted_half_and_dreams_the_painted_one(server: Server) -> None:
    pixels = image(128, 96, 3, "u8", seed=9)
    strength = np.zeros((30, 40, 1), np.uint8)  # a grey map of its own size: black left, white right
    strength[:, 20:] = 255
    with server.client() as client:
        result = client.run(
            pixels.tobytes(),
            params={**TINY, "steps": 4, "seed": 2},
            strength=Strength(strength.tobytes(), 40, 30, 1, "u8"),
            **layout(pixels),
        )
    change = np.abs(decode(result).astype(int) - pixels.astype(int))
    assert change[:, :48].max() <= 1  # the left half, away from the map's edge
    assert change[:, 80:].mean() > 1


def test_a_strength_map_with_colour_channels_is_refused_before_it_is_sent(server: Server) -> None:
    pixels = image(96, 96, 3, "u8")
    with server.client() as client, pytest.raises(ReverieError, match="grey"):
        client.submit(pixels.tobytes(), params=TINY, strength=Strength(bytes(27), 3, 3, 3, "u8"), **layout(pixels))


@pytest.mark.parametrize(
    ("params", "size", "code"),
    [
        ({"model": "inception_v3"}, 96, "unknown_model"),
        ({"model": "vgg"}, 96, "unknown_model"),
        ({"layers": {"mixed4": 1.0}}, 96, "unknown_layer"),
        ({"preset": "psychedelic"}, 96, "unknown_layer"),
        ({"steps": 0}, 96, "bad_request"),
        ({"colour": "red"}, 96, "bad_request"),
        ({}, 8, "too_small"),
    ],
)
def test_bad_jobs_get_a_stable_error_code(server: Server, params: dict, size: int, code: str) -> None:
    pixels = image(size, size, 3, "u8")
    with server.client() as client, pytest.raises(ReverieError) as caught:
        client.run(pixels.tobytes(), params={**TINY, **params}, **layout(pixels))
    assert caught.value.code == code
    assert len(str(caught.value)) > 20


def test_progress_is_throttled_and_cancel_while_running_stops_within_a_step(server: Server) -> None:
    pixels = image(160, 120, 4, "u8")
    with server.client() as client:
        job = client.submit(pixels.tobytes(), params=ENDLESS, **layout(pixels))
        events = client.events(job)
        first = next(events)
        assert isinstance(first, Progress)
        window = time.monotonic()
        steps = [first.step]
        while time.monotonic() - window < 1.0:
            steps.append(next(events).step)
        assert len(steps) <= 12, f"{len(steps)} progress messages in a second; at most about ten are promised"
        assert steps[-1] - steps[0] >= len(steps) - 1
        asked = time.monotonic()
        client.cancel(job)
        rest = list(events)
        latency = time.monotonic() - asked
    assert rest[-1] == Cancelled(job)
    assert latency < 2.0


def test_cancel_while_queued_answers_at_once_and_leaves_the_running_job(server: Server) -> None:
    pixels = image(96, 96, 3, "u8")
    with server.client() as client:
        running = client.submit(pixels.tobytes(), params=ENDLESS, **layout(pixels))
        queued = client.submit(pixels.tobytes(), params=ENDLESS, **layout(pixels))
        running_events = client.events(running)
        assert isinstance(next(running_events), Progress)
        client.cancel(queued)
        assert list(client.events(queued)) == [Queued(queued, 1), Cancelled(queued)]
        assert isinstance(next(running_events), Progress), "the running job must go on"
        client.cancel(running)
        assert list(running_events)[-1] == Cancelled(running)


def test_a_queued_job_hears_each_time_it_moves_up(server: Server) -> None:
    pixels = image(96, 96, 3, "u8")
    with server.client() as client:
        jobs = [client.submit(pixels.tobytes(), params=ENDLESS, **layout(pixels)) for _ in range(3)]
        running, first, last = jobs
        assert isinstance(next(client.events(running)), Progress)
        last_events = client.events(last, timeout=60)  # without the news it would wait behind ENDLESS
        assert next(last_events) == Queued(last, 2)
        client.cancel(first)
        assert list(client.events(first)) == [Queued(first, 1), Cancelled(first)]
        assert next(last_events) == Queued(last, 1)
        client.cancel(last)
        assert list(last_events) == [Cancelled(last)]
        client.cancel(running)
        assert list(client.events(running))[-1] == Cancelled(running)


def test_a_full_queue_answers_busy(server: Server) -> None:
    pixels = image(96, 96, 3, "u8")
    share = server.facts()["limits"]["max_jobs_per_client"]
    clients = [server.client() for _ in range((MAX_QUEUE + 1) // share + 1)]  # the queue is more than one share
    jobs = []
    try:
        for number in range(MAX_QUEUE + 1):
            client = clients[number // share]
            jobs.append((client, client.submit(pixels.tobytes(), params=ENDLESS, **layout(pixels))))
        with pytest.raises(Busy, match="max_queue") as caught:
            clients[-1].submit(pixels.tobytes(), params=ENDLESS, **layout(pixels))
        assert caught.value.code == "busy"
        for client, job in reversed(jobs):
            client.cancel(job)
        for client, job in jobs:
            assert list(client.events(job))[-1] == Cancelled(job)
    finally:
        for client in clients:
            client.close()


QUEUED_CLIENT = """
import sys
from reverie_wire.client import DreamClient
client = DreamClient(sys.argv[1])
client.submit(bytes(96 * 96 * 3), width=96, height=96, channels=3, dtype="u8", params={"model": "mobilenet"})
print("queued", flush=True)
sys.stdin.read()
"""


def test_a_killed_client_has_its_job_cancelled_and_the_next_job_runs(
    server: Server, record_property: pytest.RecordProperty
) -> None:
    before = server.facts()["jobs_cancelled"]
    victim = subprocess.Popen(
        [sys.executable, "-c", KILLED_CLIENT, server.endpoint], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    job = victim.stdout.readline().strip()
    assert server.facts()["running"] == job
    killed = time.monotonic()
    victim.kill()
    victim.wait()
    with server.client() as client:
        while client.hello()["jobs_cancelled"] == before and time.monotonic() - killed < 10:
            pass
        latency = time.monotonic() - killed
        pixels = image(96, 96, 3, "u8")
        result = client.run(pixels.tobytes(), params=TINY, **layout(pixels))
    record_property("dead_client_cancel_seconds", round(latency, 3))
    assert latency < 2.0, f"the dead client's job was cancelled after {latency:.2f} s"
    assert isinstance(result, Result)
    victim.stdin.close()
    victim.stdout.close()


def test_a_killed_client_has_its_queued_job_dropped(server: Server) -> None:
    pixels = image(96, 96, 3, "u8")
    with server.client() as client:
        running = client.submit(pixels.tobytes(), params=ENDLESS, **layout(pixels))
        events = client.events(running)
        assert isinstance(next(events), Progress)
        victim = subprocess.Popen(
            [sys.executable, "-c", QUEUED_CLIENT, server.endpoint],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert victim.stdout.readline().strip() == "queued"
        assert client.hello()["queue"] == 1
        killed = time.monotonic()
        victim.kill()
        victim.wait()
        while client.hello()["queue"] == 1 and time.monotonic() - killed < 10:
            pass
        latency = time.monotonic() - killed
        assert client.hello()["running"] == running, "the running job of a live client goes on"
        client.cancel(running)
        assert list(events)[-1] == Cancelled(running)
    victim.stdin.close()
    victim.stdout.close()
    assert latency < 2.0, f"the dead client's queued job was dropped after {latency:.2f} s"


def test_eight_clients_five_jobs_each_match_the_same_jobs_run_one_by_one(server: Server) -> None:
    inputs = {client: image(96, 96, 4, "u8", seed=client) for client in range(8)}
    params = {(client, n): {**TINY, "steps": 1, "seed": 100 * client + n} for client in range(8) for n in range(5)}
    together: dict[tuple[int, int], bytes] = {}

    def one_client(number: int) -> None:
        with DreamClient(server.endpoint, timeout=30) as client:
            pixels = inputs[number]
            for n in range(5):
                result = client.run(pixels.tobytes(), params=params[number, n], **layout(pixels))
                together[number, n] = result.pixels

    in_parallel(one_client, 8)
    assert len(together) == 40
    with server.client() as client:
        for (number, n), job_params in params.items():
            pixels = inputs[number]
            alone = client.run(pixels.tobytes(), params=job_params, **layout(pixels))
            assert alone.pixels == together[number, n], f"job {n} of client {number} differs when run alone"


def test_status_counts_what_the_server_did(server: Server, tmp_path: Path) -> None:
    facts = server.facts()
    assert facts["state"] == "ready" and facts["model"] == "mobilenet" and facts["device"]
    assert facts["jobs_done"] >= 1 and facts["jobs_cancelled"] >= 1 and facts["jobs_failed"] >= 1
    assert facts["queue"] == 0 and facts["limits"]["max_queue"] == MAX_QUEUE
    assert "conv_pw_7_relu" in facts["models"]["mobilenet"]["layers"]
    assert facts["tensorflow"] and facts["keras"] and facts["protocol"] == 1
    assert facts["backend"] == "tensorflow" and facts["backend_version"] == facts["tensorflow"]


def test_the_model_is_compiled_before_the_server_reports_ready(server: Server) -> None:
    assert re.search(r"ready on .* \(\d+\.\d s of it compiling\)", server.log.read_text())
