"""The second round of the hardening review against a real server (MobileNet, random weights) on real sockets:
configuration values out of range, guides, the refusal log, ``ipc://`` and messages larger than any job."""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import zmq
import zmq.auth
from attacks import MB, ONE_CONNECTION_BOUND, ZmtpProxy, header, memory, raw_peer, reset_peak, unfinished_message
from server_harness import (
    ENDLESS,
    TINY,
    Server,
    image,
    layout,
    reverie,
    start_server,
    user_env,
)
from zmq.utils.monitor import recv_monitor_message

from reverie.config import load_config
from reverie_wire import protocol
from reverie_wire.client import DreamClient, Guide, Result
from reverie_wire.errors import Busy, ImageTooSmall, TooLarge
from reverie_wire.keys import client_options

# Pixel-steps a job may be: a 64×64 one-step dream is 4096, a guide its pixels and up to 2 M for one look at it.
PIXEL_STEPS = 10_000_000
MAX_CONNECTIONS = 8


@pytest.mark.parametrize(
    ("setting", "named"),
    [
        (f"max_pixels = {2**63 - 1}", "max_pixels must be a whole number from 1 to 268,435,456"),
        ("max_tile_size = 100", "max_tile_size must be a whole number from 128 to 4,096; got 100"),
    ],
)
def test_a_setting_out_of_range_stops_the_start_with_one_line_naming_it(
    tmp_path: Path, setting: str, named: str
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f"[limits]\n{setting}\n")
    server = start_server(tmp_path, "--config", str(config), wait=False)
    try:
        code = server.process.wait(60)
    except subprocess.TimeoutExpired:
        server.stop()
        raise
    log = server.log.read_text()
    assert code == 1
    assert f"{config}: [limits] {named}" in log
    assert "Traceback" not in log


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    home = tmp_path_factory.mktemp("second")
    config = home / "config.toml"
    config.write_text(f"[limits]\nmax_pixel_steps = {PIXEL_STEPS}\nmax_connections = {MAX_CONNECTIONS}\n")
    server = start_server(home, "--config", str(config))
    yield server
    assert server.stop() == 0
    assert "Traceback" not in server.log.read_text()


def guided(server: Server, guide_width: int, guide_height: int) -> Result:
    """A 64×64 one-step dream with a guide of the given size."""
    pixels, guide = image(64, 64, 3, "u8"), image(guide_width, guide_height, 3, "u8")
    with server.client(timeout=120) as client:
        return client.run(
            pixels.tobytes(),
            params={**TINY, "steps": 1, "seed": 1},
            guide=Guide(guide.tobytes(), **layout(guide)),
            **layout(pixels),
        )


def test_a_thin_guide_is_refused_before_it_is_enlarged(server: Server) -> None:
    reset_peak(server.process.pid)
    start = memory(server.process.pid)["VmRSS"]
    with pytest.raises(ImageTooSmall, match=r"guide: the guide is 2048×1 pixels; .* enlarges at most 8×"):
        guided(server, 2048, 1)
    growth = memory(server.process.pid)["VmHWM"] - start
    assert growth < 64 * MB, f"the server grew by {growth / MB:.0f} MiB"  # it was 1.8 GB
    assert isinstance(guided(server, 256, 256), Result)


def test_a_guides_pixels_count_in_the_jobs_work(server: Server) -> None:
    with pytest.raises(TooLarge, match=r"pixel-steps .*and a 3000x3000 guide"):
        guided(server, 3000, 3000)  # 9 M pixels: over the budget with its look
    assert isinstance(guided(server, 1000, 1000), Result)


def reconnecting(endpoint: str, seconds: float) -> int:
    """Connect and drop TCP connections over and over for ``seconds``, as 50 reconnecting sockets would; how many
    connections were made."""
    host, port = endpoint.removeprefix("tcp://").rsplit(":", 1)
    made, deadline = 0, time.monotonic() + seconds
    while time.monotonic() < deadline:
        batch = [socket.create_connection((host, int(port))) for _ in range(50)]
        made += len(batch)
        for connection in batch:
            connection.close()
    return made


def refusals(server: Server) -> list[str]:
    return [line for line in server.log.read_text().splitlines() if "refused a connection" in line]


def test_refusing_a_reconnecting_flood_writes_a_few_log_lines_and_says_how_many_it_held_back(server: Server) -> None:
    host, port = server.endpoint.removeprefix("tcp://").rsplit(":", 1)
    seconds = 4.0
    before = len(refusals(server))
    held = [socket.create_connection((host, int(port))) for _ in range(MAX_CONNECTIONS)]  # every slot taken
    try:
        made = reconnecting(server.endpoint, seconds)
        deadline = time.monotonic() + 30
        while not any("held back" in line for line in refusals(server)[before:]):
            assert time.monotonic() < deadline, "a line must say how many refusals were held back"
            socket.create_connection((host, int(port))).close()  # one more refusal, a second later
            time.sleep(1)
    finally:
        for connection in held:
            connection.close()
    written = len(refusals(server)) - before
    # The per-peer bucket: 20 at once, then one a second (the loop above waits at most 30 s more for one).
    assert written <= 20 + seconds + 32, f"{written} lines for {made} refused connections"


# -- one memory budget for the whole server -------------------------------------------------------------------------

BUDGET_PIXELS = 1_000_000
FRAME = BUDGET_PIXELS * 16  # the largest frame: one connection may hold two (32 MB) in flight
BUDGET = 52 * MB  # three such frames, and a little
UNREAD_BYTES = 8 * MB


@pytest.fixture(scope="module")
def budgeted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    home = tmp_path_factory.mktemp("budget")
    config = home / "config.toml"
    config.write_text(
        f"[limits]\nmax_pixels = {BUDGET_PIXELS}\nmemory_budget = {BUDGET}\nmax_unread_bytes = {UNREAD_BYTES}\n"
    )
    server = start_server(home, "--config", str(config))
    yield server
    assert server.stop() == 0
    assert "Traceback" not in server.log.read_text()


def test_connections_together_are_cut_at_the_servers_memory_budget(budgeted: Server) -> None:
    assert budgeted.facts()["limits"]["memory_budget"] == BUDGET
    reset_peak(budgeted.process.pid)
    start = memory(budgeted.process.pid)["VmRSS"]
    threads = [threading.Thread(target=unfinished_message, args=(budgeted.endpoint, FRAME, 16)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    growth = memory(budgeted.process.pid)["VmHWM"] - start
    # The budget, and the one connection always let through, which its allowance bounds as it bounds a connection
    # alone (a late check lets more in: the full suite once saw it cut at 109 MB received, the server 119 MiB up).
    # Held each to its own allowance only, the eight would hold 8 × 32 MB and more.
    assert growth < BUDGET + ONE_CONNECTION_BOUND, f"the server grew by {growth / MB:.0f} MiB"
    assert "memory budget" in budgeted.log.read_text()
    pixels = image(96, 96, 3, "u8")
    with budgeted.client(timeout=60) as client:
        assert isinstance(client.run(pixels.tobytes(), params={**TINY, "seed": 1}, **layout(pixels)), Result)


def test_jobs_pixels_count_against_the_budget(budgeted: Server) -> None:
    pixels = image(1000, 1000, 4, "f32")  # 16 MB: three fit in the budget, a fourth does not
    with budgeted.client(timeout=60) as client:
        jobs = [client.submit(pixels.tobytes(), params=ENDLESS, **layout(pixels)) for _ in range(3)]
        with pytest.raises(Busy, match="would pass its memory budget of 55 MB"):
            client.submit(pixels.tobytes(), params=ENDLESS, **layout(pixels))
        for job in jobs:
            client.cancel(job)
        for job in jobs:
            list(client.events(job))


def test_snapshots_to_a_client_that_never_reads_stay_within_the_budget(budgeted: Server) -> None:
    pixels = image(1000, 1000, 3, "u8")
    fields = {"width": 1000, "height": 1000, "channels": 3, "dtype": "u8"}
    snapshots = {"every_ms": 50, "max_side": 2048}
    with raw_peer(budgeted.endpoint, receive_buffer=16 * 1024) as peer:
        peer.send_frame(b"")
        peer.send_frame(header(type="dream", job="snaps", params=ENDLESS, image=fields, snapshots=snapshots))
        peer.send_frame(pixels.tobytes(), more=False)
        deadline = time.monotonic() + 60
        while "dropped a snapshot" not in budgeted.log.read_text():
            assert time.monotonic() < deadline, "snapshots to a client that reads nothing must be dropped"
            peer.ping()
            time.sleep(0.3)
        start, until = memory(budgeted.process.pid)["VmRSS"], time.monotonic() + 8
        while time.monotonic() < until:  # 8 s more of a dream whose snapshots nobody reads
            peer.ping()
            time.sleep(0.3)
        growth = memory(budgeted.process.pid)["VmRSS"] - start
    # Kept snapshots grew the server about 33 MiB a second (260 MiB in these 8 s); the dream's own steps of
    # allocation reach 32 MiB in a window on a loaded machine.
    assert growth < 64 * MB, f"the server grew by {growth / MB:.0f} MiB in 8 s"


# -- shares per peer -----------------------------------------------------------------------------------------------


def keyed_server(tmp_path: Path, limits: str) -> tuple[Server, dict[str, object]]:
    """A CURVE server on loopback with these ``[limits]`` lines, and the options of its one client key."""
    server, options, _ = two_keyed_server(tmp_path, limits, second=False)
    return server, options


def two_keyed_server(
    tmp_path: Path, limits: str, second: bool = True
) -> tuple[Server, dict[str, object], dict[str, object]]:
    """A CURVE server on loopback with these ``[limits]`` lines, and the options of its two client keys (with
    ``second`` False, of its one key twice)."""
    env = user_env(tmp_path)
    made = reverie("keys", "--dir", str(tmp_path / "keys"), env=env)
    assert made.returncode == 0, made
    config = tmp_path / "reverie.toml"
    config.write_text(made.stdout[made.stdout.index("[keys]") :] + f"[limits]\n{limits}")
    keys = load_config(config).keys
    first = other = client_options(keys)
    if second:
        assert keys.authorized_clients is not None
        public, secret = zmq.auth.create_certificates(tmp_path, "second")  # a second client, on the same machine
        shutil.copy(public, keys.authorized_clients)
        other = {**first, "client_keys": zmq.auth.load_certificate(secret)}
    return start_server(tmp_path, "--config", str(config), env=env, client_options=first), first, other


def test_a_curve_key_gets_one_share_of_the_queue_however_many_connections_it_opens(tmp_path: Path) -> None:
    server, options = keyed_server(tmp_path, "max_jobs_per_client = 2\n")
    pixels = image(96, 96, 3, "u8")
    clients = [DreamClient(server.endpoint, timeout=30, **options) for _ in range(3)]
    try:
        jobs = [(client, client.submit(pixels.tobytes(), params=ENDLESS, **layout(pixels))) for client in clients[:2]]
        with pytest.raises(Busy, match="share of the queue"):
            clients[2].submit(pixels.tobytes(), params=ENDLESS, **layout(pixels))  # a third connection, same key
        for client, job in jobs:
            client.cancel(job)
            list(client.events(job))
    finally:
        for client in clients:
            client.close()
        assert server.stop() == 0


def test_two_curve_keys_on_loopback_have_a_share_of_the_queue_each(tmp_path: Path) -> None:
    server, first, second = two_keyed_server(tmp_path, "max_jobs_per_client = 2\n")
    pixels = image(96, 96, 3, "u8")
    clients = [DreamClient(server.endpoint, timeout=30, **options) for options in (first, second)]
    try:
        jobs = [(clients[0], clients[0].submit(pixels.tobytes(), params=ENDLESS, **layout(pixels))) for _ in range(2)]
        with pytest.raises(Busy, match="share of the queue"):
            clients[0].submit(pixels.tobytes(), params=ENDLESS, **layout(pixels))
        jobs.append((clients[1], clients[1].submit(pixels.tobytes(), params=ENDLESS, **layout(pixels))))
        for client, job in jobs:
            client.cancel(job)
            list(client.events(job))
    finally:
        for client in clients:
            client.close()
        assert server.stop() == 0


def keyed_socket(context: zmq.Context, options: dict[str, object]) -> zmq.Socket:
    """A DEALER with the client key, not connected yet."""
    sock = context.socket(zmq.DEALER)
    sock.linger = 0
    public, secret = options["client_keys"]  # type: ignore[misc]
    sock.curve_serverkey, sock.curve_publickey, sock.curve_secretkey = options["server_public_key"], public, secret
    return sock


def keyed_dealer(context: zmq.Context, endpoint: str, options: dict[str, object]) -> zmq.Socket:
    """A DEALER with the client key, connected and past a hello (so the server has seen its key)."""
    sock = keyed_socket(context, options)
    sock.heartbeat_ivl = 300  # its heartbeats keep the connection alive while it reads nothing
    sock.heartbeat_timeout = 600_000  # and it does not give up on a server it is not reading
    sock.connect(endpoint)
    sock.send_multipart([b"", header(type="hello", req="h")])
    assert sock.poll(30_000), "hello must be answered"
    sock.recv_multipart()
    return sock


def test_a_curve_key_holds_one_share_of_the_connection_slots(tmp_path: Path) -> None:
    server, first, second = two_keyed_server(tmp_path, "max_connections = 8\n")  # 2 slots a key
    try:
        with zmq.Context() as context:
            held = [keyed_dealer(context, server.endpoint, first) for _ in range(2)]
            third = keyed_socket(context, first)
            watch = third.get_monitor_socket(zmq.EVENT_DISCONNECTED)
            third.connect(server.endpoint)
            third.send_multipart([b"", header(type="hello", req="h")])
            assert watch.poll(30_000), "the key's third connection must be cut at its first message"
            assert recv_monitor_message(watch)["event"] == zmq.EVENT_DISCONNECTED
            held.append(keyed_dealer(context, server.endpoint, second))  # another key still gets in and is answered
            for sock in (*held, watch, third):
                sock.close()
    finally:
        assert server.stop() == 0
    assert "refused a connection of client key" in server.log.read_text()


def test_a_keys_connections_share_one_allowance_of_bytes_in_flight(tmp_path: Path) -> None:
    server, options = keyed_server(tmp_path, f"max_pixels = {BUDGET_PIXELS}\n")  # allowance: 32 MB
    proxy = ZmtpProxy(server.endpoint, large_limit=24_000_000)  # each connection's message stops at 24 MB
    frame = bytes(FRAME // 2)
    try:
        with zmq.Context() as context:
            dealers = [keyed_dealer(context, proxy.endpoint, options) for _ in range(6)]
            reset_peak(server.process.pid)
            start = memory(server.process.pid)["VmRSS"]
            for dealer in dealers:  # six unfinished messages of 24 MB, each within one connection's allowance
                dealer.send_multipart([b"", header(type="hello", req="x"), *[frame] * 40], copy=False)
            deadline = time.monotonic() + 30
            while sum(link.closed_by_server.is_set() for link in proxy.links) < 5:
                assert time.monotonic() < deadline, "five of the key's six connections must be cut"
                time.sleep(0.1)
            growth = memory(server.process.pid)["VmHWM"] - start
            for dealer in dealers:
                dealer.close()
    finally:
        proxy.close()
        assert server.stop() == 0
    # The key's 32 MB, one more message arriving between two checks, and room for a late check; 144 MB before.
    assert growth < 96 * MB, f"the server grew by {growth / MB:.0f} MiB"
    assert "connections (the allowance is" in server.log.read_text()


def test_a_keys_connections_share_one_allowance_of_unread_results(tmp_path: Path) -> None:
    server, options = keyed_server(tmp_path, "max_unread_bytes = 1048576\nunread_seconds = 2\n")
    proxy = ZmtpProxy(server.endpoint)
    pixels = image(600, 600, 3, "u8")  # a 1.08 MB result: more than the key's 1 MiB share
    try:
        with zmq.Context() as context:
            dealers = [keyed_dealer(context, proxy.endpoint, options) for _ in range(3)]
            proxy.reading.clear()  # from now on nothing the server sends is read
            for number, dealer in enumerate(dealers):
                job = header(type="dream", job=f"j{number}", params={**TINY, "seed": 1}, image=layout(pixels))
                dealer.send_multipart([b"", job, pixels.tobytes()])
            deadline = time.monotonic() + 120
            while "its results are given up" not in server.log.read_text():
                assert time.monotonic() < deadline, "results past the key's share must wait, then be given up"
                time.sleep(0.2)
            proxy.reading.set()
            endings = []
            for dealer in dealers:
                while True:
                    assert dealer.poll(60_000), "each job must end"
                    reply = protocol.decode_header(dealer.recv_multipart()[1])
                    if reply["type"] in ("result", "error"):
                        endings.append(reply["type"] if reply["type"] == "result" else reply["code"])
                        break
            for dealer in dealers:
                dealer.close()
    finally:
        proxy.close()
        assert server.stop() == 0
    # One connection's first result went; the others' would have taken the key past its share, so they waited and
    # were given up (each connection's own first result went before). On a loaded box one of them sometimes went
    # too: the peer held nothing by the server's count at that moment (not understood yet; docs/hardening.md).
    assert "result" in endings and "cancelled" in endings, endings


# -- ipc:// --------------------------------------------------------------------------------------------------------


def test_a_frame_larger_than_any_job_is_cut_on_ipc_too_and_the_server_keeps_serving(tmp_path: Path) -> None:
    endpoint = f"ipc://{tmp_path}/dream.sock"
    config = tmp_path / "config.toml"
    config.write_text(f"[limits]\nmax_pixels = {BUDGET_PIXELS}\n")  # the largest frame is 16 MB
    server = start_server(tmp_path, "--config", str(config), endpoint=endpoint)
    try:
        reset_peak(server.process.pid)
        start = memory(server.process.pid)["VmRSS"]
        with raw_peer(endpoint) as peer:
            peer.send_frame(b"")
            peer.send_frame(header(type="hello", req="h"))
            assert not peer.send_big_frame(4 * FRAME), "a 64 MB frame must be cut at its size header"
        growth = memory(server.process.pid)["VmHWM"] - start
        assert growth < 8 * MB, f"the server grew by {growth / MB:.0f} MiB"
        pixels = image(96, 96, 3, "u8")
        with DreamClient(endpoint, timeout=60) as client:
            assert isinstance(client.run(pixels.tobytes(), params={**TINY, "seed": 1}, **layout(pixels)), Result)
    finally:
        assert server.stop() == 0


def test_a_message_that_never_ends_is_cut_on_ipc_as_on_tcp(tmp_path: Path) -> None:
    endpoint = f"ipc://{tmp_path}/dream.sock"
    config = tmp_path / "config.toml"
    config.write_text(f"[limits]\nmax_pixels = {BUDGET_PIXELS}\n")  # one connection's allowance: 32 MB
    server = start_server(tmp_path, "--config", str(config), endpoint=endpoint)
    try:
        reset_peak(server.process.pid)
        start = memory(server.process.pid)["VmRSS"]
        sent = unfinished_message(endpoint, FRAME, 16)
        growth = memory(server.process.pid)["VmHWM"] - start
        assert sent < 16, "16 frames of 16 MB, a message never ended, must be cut"
        assert growth < 96 * MB, f"the server grew by {growth / MB:.0f} MiB"  # it was 244 MiB, held until the end
        assert "cut a connection holding" in server.log.read_text()
        pixels = image(96, 96, 3, "u8")
        with DreamClient(endpoint, timeout=60) as client:
            assert isinstance(client.run(pixels.tobytes(), params={**TINY, "seed": 1}, **layout(pixels)), Result)
    finally:
        assert server.stop() == 0
    assert not Path(endpoint.removeprefix("ipc://")).exists(), "the relay's socket file must go with the server"
