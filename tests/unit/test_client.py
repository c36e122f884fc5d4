"""The client against scripted servers on real ZeroMQ sockets: retries, errors, events, limits."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterator

import pytest
import zmq
from dropping_proxy import DroppingProxy
from scripted_server import Handler, Reply, ScriptedServer

from reverie_wire import client, errors, protocol
from reverie_wire.errors import DreamCancelled, ReverieError

LIMITS = protocol.Limits(max_pixels=10_000, max_side=200, max_queue=2).to_dict()
FACTS = {"state": "ready", "limits": LIMITS, "pid": 1}


@pytest.fixture
def serve() -> Iterator[Callable[[Handler], ScriptedServer]]:
    servers: list[ScriptedServer] = []

    def start(handler: Handler) -> ScriptedServer:
        servers.append(ScriptedServer(handler))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def hello_only(header: dict, _: list[bytes], facts: dict = FACTS) -> Reply:
    return [({"type": "hello", "req": header["req"], "server": facts}, None)]


def dreaming(events: Callable[[str], Reply], facts: dict = FACTS) -> Handler:
    """Answer hello, accept every dream and follow with ``events(job)`` (sent as they come)."""

    def handle(header: dict, body: list[bytes]) -> Reply:
        if header["type"] == "hello":
            return hello_only(header, body, facts)
        if header["type"] == "dream":
            return itertools.chain([({"type": "accepted", "job": header["job"]}, None)], events(header["job"]))
        return [({"type": "cancelled", "job": header["job"]}, None)]

    return handle


def result(job: str, pixels: bytes = b"\x01\x02\x03") -> tuple[dict, bytes]:
    image = {"width": 1, "height": 1, "channels": 3, "dtype": "u8"}
    header = {"type": "result", "job": job, "image": image, "seed": 7, "seconds": 0.5, "engine_seconds": 0.4}
    return header, pixels


def progress(job: str, step: int) -> tuple[dict, None]:
    header = {
        "type": "progress",
        "job": job,
        "fraction": step / 2,
        "octave": 1,
        "octaves": 1,
        "step": step,
        "steps": 2,
        "tiles": 1,
    }
    return header, None


def submit(dream: client.DreamClient, pixels: bytes = b"\x00\x00\x00", **overrides: object) -> str:
    layout = {"width": 1, "height": 1, "channels": 3, "dtype": "u8", **overrides}
    return dream.submit(pixels, params={"steps": 2}, **layout)


def test_hello_returns_the_facts(serve: Callable[[Handler], ScriptedServer]) -> None:
    server = serve(hello_only)
    with client.DreamClient(server.endpoint) as dream:
        assert dream.hello() == FACTS


def test_nothing_listening_is_server_not_running_after_the_retries() -> None:
    with zmq.Context() as context, context.socket(zmq.ROUTER) as placeholder:
        port = placeholder.bind_to_random_port("tcp://127.0.0.1")
        placeholder.unbind(f"tcp://127.0.0.1:{port}")
    dream = client.DreamClient(f"tcp://127.0.0.1:{port}", timeout=0.1, retries=2)
    with dream, pytest.raises(errors.ServerNotRunning, match="reverie start") as caught:
        dream.hello()
    assert caught.value.code == "server_not_running"
    assert isinstance(caught.value, ReverieError)


def test_lazy_pirate_retries_a_lost_hello(serve: Callable[[Handler], ScriptedServer]) -> None:
    seen: list[str] = []

    def forgetful(header: dict, body: list[bytes]) -> Reply:
        seen.append(header["req"])
        return [] if len(seen) == 1 else hello_only(header, body)

    server = serve(forgetful)
    with client.DreamClient(server.endpoint, timeout=0.2, retries=3) as dream:
        assert dream.hello()["pid"] == 1
    assert len(seen) == 2 and seen[0] != seen[1]


def test_a_server_of_another_version_is_a_version_mismatch(serve: Callable[[Handler], ScriptedServer]) -> None:
    server = serve(lambda header, _: [({"type": "hello", "req": header["req"], "v": 2, "server": FACTS}, None)])
    with client.DreamClient(server.endpoint) as dream, pytest.raises(errors.VersionMismatch, match="protocol 2"):
        dream.hello()


def test_a_server_refusing_our_version_is_a_version_mismatch(serve: Callable[[Handler], ScriptedServer]) -> None:
    refusal = {"type": "error", "code": "version_mismatch", "message": "update the plug-in"}
    server = serve(lambda header, _: [({**refusal, "req": header["req"]}, None)])
    with client.DreamClient(server.endpoint) as dream, pytest.raises(errors.VersionMismatch, match="update"):
        dream.hello()


def test_run_streams_progress_and_returns_the_result(serve: Callable[[Handler], ScriptedServer]) -> None:
    heartbeat = ({"type": "heartbeat"}, None)
    server = serve(dreaming(lambda job: [progress(job, 1), heartbeat, progress(job, 2), result(job)]))
    seen: list[client.Progress] = []
    with client.DreamClient(server.endpoint) as dream:
        got = dream.run(b"\x00\x00\x00", width=1, height=1, channels=3, dtype="u8", params={}, on_progress=seen.append)
    assert [event.step for event in seen] == [1, 2]
    assert got.pixels == b"\x01\x02\x03" and got.seed == 7 and got.engine_seconds == 0.4
    dream_request = server.received[-1]
    assert dream_request["image"] == {"width": 1, "height": 1, "channels": 3, "dtype": "u8"}


def test_progress_carries_the_server_s_time_left_when_it_sends_one(serve: Callable[[Handler], ScriptedServer]) -> None:
    def with_left(job: str, step: int, left: object) -> tuple[dict, None]:
        header, _ = progress(job, step)
        return {**header, "seconds_left": left}, None

    replies = [with_left("J", 1, 12.5), progress("J", 2), with_left("J", 2, "soon"), with_left("J", 2, -1)]
    server = serve(dreaming(lambda job: [(({**h, "job": job}), b) for h, b in replies] + [result(job)]))
    seen: list[client.Progress] = []
    with client.DreamClient(server.endpoint) as dream:
        dream.run(b"\x00\x00\x00", width=1, height=1, channels=3, dtype="u8", params={}, on_progress=seen.append)
    assert [event.seconds_left for event in seen] == [12.5, None, None, None]  # absent or malformed: none


def test_poll_hands_out_events_of_any_job(serve: Callable[[Handler], ScriptedServer]) -> None:
    server = serve(dreaming(lambda job: [result(job)]))
    with client.DreamClient(server.endpoint) as dream:
        first, second = submit(dream), submit(dream)
        events = [dream.poll(timeout=2.0), dream.poll(timeout=2.0)]
        assert {event.job_id for event in events} == {first, second}
        assert dream.poll() is None


def test_errors_become_exceptions_with_the_server_code(serve: Callable[[Handler], ScriptedServer]) -> None:
    failure = {"type": "error", "code": "unknown_layer", "message": "mobilenet has no layer 'mixed4'"}
    server = serve(dreaming(lambda job: [({**failure, "job": job}, None)]))
    with client.DreamClient(server.endpoint) as dream:
        job = submit(dream)
        with pytest.raises(errors.UnknownLayer, match="mixed4") as caught:
            list(dream.events(job))
    assert caught.value.code == "unknown_layer" and caught.value.job_id == job


def test_a_full_queue_is_server_busy(serve: Callable[[Handler], ScriptedServer]) -> None:
    def busy(header: dict, body: list[bytes]) -> Reply:
        if header["type"] == "hello":
            return hello_only(header, body)
        return [({"type": "error", "code": "busy", "job": header["job"], "message": "2 jobs waiting"}, None)]

    server = serve(busy)
    with client.DreamClient(server.endpoint) as dream, pytest.raises(errors.Busy):
        submit(dream)


def test_an_image_beyond_the_limits_is_refused_before_sending(serve: Callable[[Handler], ScriptedServer]) -> None:
    server = serve(dreaming(lambda job: [result(job)]))
    dream = client.DreamClient(server.endpoint)
    with dream, pytest.raises(errors.TooLarge, match="megapixels") as caught:
        submit(dream, bytes(300 * 300), width=300, height=300, channels=1)
    assert caught.value.code == "too_large"
    assert [header["type"] for header in server.received] == ["hello"]


def test_a_buffer_of_the_wrong_length_is_a_client_error(serve: Callable[[Handler], ScriptedServer]) -> None:
    server = serve(dreaming(lambda job: [result(job)]))
    with client.DreamClient(server.endpoint) as dream, pytest.raises(errors.ClientError, match="needs 3"):
        submit(dream, b"\x00\x00")


def test_a_server_silent_mid_job_is_a_timeout_after_missed_heartbeats(
    serve: Callable[[Handler], ScriptedServer],
) -> None:
    server = serve(dreaming(lambda job: [], {**FACTS, "heartbeat_interval": 0.05}))
    with client.DreamClient(server.endpoint) as dream:
        job = submit(dream)
        assert dream.silence_limit == pytest.approx(client.HEARTBEATS_MISSED * 0.05)
        with pytest.raises(errors.ClientTimeout, match=r"sent nothing for 0\.[5-9] s .* heartbeat every 0\.05 s"):
            list(dream.events(job))


def heartbeats_then_result(seconds: float, interval: float) -> Callable[[str], Reply]:
    """A job whose one long gradient step lasts ``seconds``, heartbeats every ``interval`` meanwhile."""

    def events(job: str) -> Iterator[tuple[dict, bytes | None]]:
        for _ in range(round(seconds / interval)):
            time.sleep(interval)  # the server's step running: time passing, not synchronisation
            yield {"type": "heartbeat"}, None
        yield result(job)

    return events


@pytest.mark.parametrize("wait", ["events", "poll"])
def test_a_job_outlasting_the_request_timeout_lives_on_heartbeats(
    serve: Callable[[Handler], ScriptedServer], wait: str
) -> None:
    server = serve(dreaming(heartbeats_then_result(1.0, 0.2), {**FACTS, "heartbeat_interval": 0.2}))
    with client.DreamClient(server.endpoint, timeout=0.1, retries=1) as dream:  # a probe's timeout
        job = submit(dream)
        if wait == "events":
            events = list(dream.events(job))
        else:  # the plug-in's way: short polls from GIMP's main loop
            events = []
            while not events:
                event = dream.poll(0.05)
                events += [] if event is None else [event]
    assert [type(event) for event in events] == [client.Result]


def test_the_silence_limit_of_an_older_server_follows_the_protocols_heartbeat(
    serve: Callable[[Handler], ScriptedServer],
) -> None:
    server = serve(hello_only)
    with client.DreamClient(server.endpoint, timeout=0.1) as dream:
        dream.hello()
        assert dream.silence_limit == client.HEARTBEATS_MISSED * protocol.HEARTBEAT_INTERVAL


@pytest.mark.parametrize(("announced", "limit"), [(0.0, 0.5), (1e-9, 0.5), (1e9, 300.0), ("1", 5.0), (True, 5.0)])
def test_an_announced_heartbeat_is_believed_within_bounds(
    serve: Callable[[Handler], ScriptedServer], announced: object, limit: float
) -> None:
    server = serve(lambda header, body: hello_only(header, body, {**FACTS, "heartbeat_interval": announced}))
    with client.DreamClient(server.endpoint) as dream:
        dream.hello()
        assert dream.silence_limit == pytest.approx(limit)


def free_port_endpoint() -> str:
    with zmq.Context() as context, context.socket(zmq.ROUTER) as placeholder:
        port = placeholder.bind_to_random_port("tcp://127.0.0.1")
        placeholder.unbind(f"tcp://127.0.0.1:{port}")
    return f"tcp://127.0.0.1:{port}"


def test_a_probe_of_nothing_is_none_without_waiting_out_the_timeout() -> None:
    with client.DreamClient(free_port_endpoint(), timeout=30, retries=3) as dream:
        started = time.monotonic()
        assert dream.probe(within=30) is None
        assert time.monotonic() - started < 10, "a refused connection is known at once, not after the timeouts"


def test_a_probe_waits_for_a_slow_answer_once_connected(serve: Callable[[Handler], ScriptedServer]) -> None:
    def slow(header: dict, body: list[bytes]) -> Reply:
        time.sleep(0.5)  # a busy server: it answers, late
        return hello_only(header, body)

    server = serve(slow)
    with client.DreamClient(server.endpoint, timeout=5.0, retries=1) as dream:
        assert dream.probe(within=0.2) == FACTS


def test_events_bounded_by_a_job_timeout(serve: Callable[[Handler], ScriptedServer]) -> None:
    server = serve(dreaming(lambda job: []))
    with client.DreamClient(server.endpoint, timeout=5.0) as dream:
        job = submit(dream)
        with pytest.raises(errors.ClientTimeout, match="longer than"):
            list(dream.events(job, timeout=0.2))


def test_a_job_accepted_behind_others_is_queued_first(serve: Callable[[Handler], ScriptedServer]) -> None:
    def behind(ahead: object) -> Handler:
        def handler(header: dict, body: list[bytes]) -> Reply:
            if header["type"] == "hello":
                return hello_only(header, body)
            job = header["job"]
            accepted = {"type": "accepted", "job": job, "position": 0, "ahead": ahead}
            return [(accepted, None), progress(job, 1), result(job)]

        return handler

    with client.DreamClient(serve(behind(2)).endpoint) as dream:
        job = submit(dream)
        events = list(dream.events(job))
        assert events[0] == client.Queued(job, 2) and isinstance(events[1], client.Progress)
    for nothing_ahead in (0, None, True, "2"):  # nothing waits, or an older or confused server: no event
        with client.DreamClient(serve(behind(nothing_ahead)).endpoint) as dream:
            job = submit(dream)
            assert not any(isinstance(event, client.Queued) for event in dream.events(job))


def test_cancel_yields_cancelled_and_run_raises(serve: Callable[[Handler], ScriptedServer]) -> None:
    server = serve(dreaming(lambda job: [progress(job, 1)]))
    with client.DreamClient(server.endpoint) as dream:
        job = submit(dream)
        events = dream.events(job)
        assert isinstance(next(events), client.Progress)
        dream.cancel(job)
        assert next(events) == client.Cancelled(job)
    server = serve(dreaming(lambda job: [({"type": "cancelled", "job": job}, None)]))
    with client.DreamClient(server.endpoint) as dream, pytest.raises(DreamCancelled):
        dream.run(b"\x00\x00\x00", width=1, height=1, channels=3, dtype="u8", params={})


def test_a_cancel_that_lands_on_another_server_is_sent_again(serve: Callable[[Handler], ScriptedServer]) -> None:
    cancels: list[str] = []

    def behind_broker(header: dict, body: list[bytes]) -> Reply:
        if header["type"] != "cancel":
            return dreaming(lambda job: [])(header, body)
        cancels.append(header["job"])
        if len(cancels) == 1:
            return [({"type": "error", "code": "unknown_job", "job": header["job"], "message": "not here"}, None)]
        return [({"type": "cancelled", "job": header["job"]}, None)]

    server = serve(behind_broker)
    with client.DreamClient(server.endpoint) as dream:
        job = submit(dream)
        dream.cancel(job)
        assert list(dream.events(job)) == [client.Cancelled(job)]
    assert cancels == [job, job]


@pytest.mark.parametrize(("asks", "latest"), [(("stop", "cancel"), False), (("cancel", "stop"), True)])
def test_a_cancel_sent_again_keeps_as_the_latest_request_said(
    serve: Callable[[Handler], ScriptedServer], asks: tuple[str, str], latest: bool
) -> None:
    """Both asks land on another server behind a broker: each is sent again, as the latest ask says."""
    sent: list[bool] = []
    all_sent = threading.Event()

    def behind_broker(header: dict, body: list[bytes]) -> Reply:
        if header["type"] != "cancel":
            return dreaming(lambda job: [])(header, body)
        sent.append(header.get("keep", False))
        if len(sent) == 4:
            all_sent.set()
        if len(sent) <= 2:
            return [({"type": "error", "code": "unknown_job", "job": header["job"], "message": "not here"}, None)]
        return [({"type": "cancelled", "job": header["job"]}, None)]

    server = serve(behind_broker)
    with client.DreamClient(server.endpoint) as dream:
        job = submit(dream)
        getattr(dream, asks[0])(job)
        getattr(dream, asks[1])(job)
        assert list(dream.events(job)) == [client.Cancelled(job)]
        assert all_sent.wait(10)
    assert sent == [not latest, latest, latest, latest]


def test_close_cancels_jobs_still_running(serve: Callable[[Handler], ScriptedServer]) -> None:
    server = serve(dreaming(lambda job: []))
    dream = client.DreamClient(server.endpoint)
    job = submit(dream)
    dream.close()
    assert server.wait_for(lambda got: any(h["type"] == "cancel" and h["job"] == job for h in got))


@pytest.mark.parametrize(
    ("params", "match"), [({"step_size": float("nan")}, "JSON"), ({"layers": {"x" * 70_000: 1.0}}, "bytes")]
)
def test_params_the_protocol_cannot_carry_are_refused_before_sending(
    serve: Callable[[Handler], ScriptedServer], params: dict, match: str
) -> None:
    server = serve(dreaming(lambda job: [result(job)]))
    with client.DreamClient(server.endpoint) as dream, pytest.raises(errors.ClientError, match=match):
        dream.submit(b"\x00\x00\x00", width=1, height=1, channels=3, dtype="u8", params=params)
    assert [header["type"] for header in server.received] == ["hello"]


def test_a_job_told_busy_is_sent_again_with_backoff_and_the_wait_is_heard(
    serve: Callable[[Handler], ScriptedServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(client, "BUSY_FIRST_WAIT", 0.02)
    dreams: list[str] = []

    def full_twice(header: dict, body: list[bytes]) -> Reply:
        if header["type"] == "dream":
            dreams.append(header["job"])
            if len(dreams) <= 2:
                return [({"type": "error", "code": "busy", "job": header["job"], "message": "queue full"}, None)]
        return dreaming(lambda job: [result(job)])(header, body)

    server = serve(full_twice)
    waits: list[tuple[str, float]] = []
    with client.DreamClient(server.endpoint) as dream:
        done = dream.run(
            b"\x00\x00\x00",
            width=1,
            height=1,
            channels=3,
            dtype="u8",
            params={},
            on_busy=lambda error, seconds: waits.append((str(error), seconds)),
        )
    assert done.pixels == b"\x01\x02\x03" and len(dreams) == 3
    assert [message for message, _ in waits] == ["queue full", "queue full"]
    assert 0.01 <= waits[0][1] <= 0.02 and 0.02 <= waits[1][1] <= 0.04, "each wait doubles, drawn from its upper half"


def test_a_job_still_busy_after_the_patience_is_refused_busy(serve: Callable[[Handler], ScriptedServer]) -> None:
    def always_full(header: dict, body: list[bytes]) -> Reply:
        if header["type"] == "dream":
            return [({"type": "error", "code": "busy", "job": header["job"], "message": "queue full"}, None)]
        return hello_only(header, body)

    server = serve(always_full)
    waits: list[float] = []
    with client.DreamClient(server.endpoint) as dream, pytest.raises(errors.Busy):
        dream.submit_waiting(
            b"\x00\x00\x00",
            width=1,
            height=1,
            channels=3,
            dtype="u8",
            params={},
            on_busy=lambda _, seconds: waits.append(seconds),
            patience=1.0,
        )
    assert waits and sum(waits) <= 1.0


@pytest.fixture
def dropping(
    serve: Callable[[Handler], ScriptedServer],
) -> Iterator[Callable[[Handler], tuple[ScriptedServer, DroppingProxy]]]:
    proxies: list[DroppingProxy] = []

    def start(handler: Handler) -> tuple[ScriptedServer, DroppingProxy]:
        server = serve(handler)
        proxies.append(DroppingProxy(server.endpoint))
        return server, proxies[-1]

    yield start
    for proxy in proxies:
        proxy.close()


def test_a_job_whose_connection_drops_before_it_is_accepted_is_sent_again(
    dropping: Callable[[Handler], tuple[ScriptedServer, DroppingProxy]],
) -> None:
    proxy: DroppingProxy | None = None
    dreams = itertools.count(1)

    def handle(header: dict, body: list[bytes]) -> Reply:
        if header["type"] == "hello":
            return hello_only(header, body)
        if next(dreams) == 1:  # the request arrived, and its connection drops before any answer
            assert proxy is not None
            proxy.drop()
            return []
        return [({"type": "accepted", "job": header["job"]}, None), result(header["job"])]

    server, proxy = dropping(handle)
    with client.DreamClient(proxy.endpoint, timeout=30) as dream:
        dream.hello()
        started = time.monotonic()
        outcome = dream.run(b"\x00\x00\x00", width=1, height=1, channels=3, dtype="u8", params={"steps": 2})
        assert time.monotonic() - started < 15, "the lost request was waited out, not sent again"
    assert outcome.pixels == b"\x01\x02\x03"
    sent = [header["job"] for header in server.received if header["type"] == "dream"]
    assert len(sent) == 2 and sent[0] == sent[1]
    assert proxy.connections == 2


def test_a_running_job_whose_connection_drops_says_so_at_once(
    dropping: Callable[[Handler], tuple[ScriptedServer, DroppingProxy]],
) -> None:
    server, proxy = dropping(dreaming(lambda job: [progress(job, 1)]))
    with client.DreamClient(proxy.endpoint, timeout=30) as dream:
        dream.hello()
        job = submit(dream)
        events = dream.events(job)
        assert isinstance(next(events), client.Progress)
        proxy.drop()
        with pytest.raises(errors.ConnectionLost, match=r"dropped while job \w+ was queued or running") as lost:
            next(events)
    assert lost.value.job_id == job
    assert [header["type"] for header in server.received].count("dream") == 1
