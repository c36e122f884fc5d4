"""Issue 26's soak: every attack of the hardening review at once, beside one polite client, against one real
``reverie serve`` (MobileNet, random weights) with a set memory budget, its resident memory sampled every second.

Run by hand (not collected by pytest), from the repository root:
``PYTHONPATH=$PWD/server .venv/bin/python tests/bench/soak.py --minutes 30 --out soak.json``. It stops by itself
after ``--minutes``; every attack runs on its own thread in a loop that ends with it. Loopback TCP, or with
``--transport ipc`` an ``ipc://`` endpoint (its relay then carries every attack). Writes the RSS samples, the
polite client's dream times and the attacks' counts as JSON, the server's log beside it; ``soak_plot.py`` draws
the curve.
"""

from __future__ import annotations

import argparse
import json
import logging
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))

import zmq
from attacks import header, memory, raw_peer, unfinished_message
from server_harness import ENDLESS, TINY, Server, image, layout, start_server

from reverie_wire.client import DreamClient, Guide
from reverie_wire.errors import ReverieError

MB = 1 << 20
# 4 megapixels: the largest frame (f32 RGBA) is 64 MB, one connection's allowance 128 MB.
MAX_PIXELS = 4_000_000
FRAME = 16 * 1000 * 1000
BUDGET = 512 * MB
LIMITS = {
    "max_pixels": MAX_PIXELS,
    "memory_budget": BUDGET,
    "max_unread_bytes": 32 * MB,
    "max_job_seconds": 30,  # the endless jobs of the attacks end, so the polite client gets turns
}


class Soak:
    """The server, the deadline every loop checks, and what each attack and the polite client counted."""

    def __init__(self, server: Server, seconds: float) -> None:
        self.server = server
        self.began = time.monotonic()
        self.deadline = self.began + seconds
        self.counts: dict[str, int] = {}
        self.errors: dict[str, str] = {}
        self.dreams: list[float] = []
        self.failed_dreams: list[str] = []
        self.client_log: list[str] = []  # what the polite client's library logged (a job sent again, say)
        self.lock = threading.Lock()

    def elapsed(self) -> float:
        return time.monotonic() - self.began

    def going(self) -> bool:
        return time.monotonic() < self.deadline and self.server.process.poll() is None

    def count(self, name: str) -> None:
        with self.lock:
            self.counts[name] = self.counts.get(name, 0) + 1


def polite(soak: Soak) -> None:
    """One client dreaming small MobileNet jobs one after another, retrying while the server says busy; a failed
    dream is recorded with when it failed, and the next one is tried."""
    pixels = image(160, 120, 3, "u8")
    with DreamClient(soak.server.endpoint, timeout=600) as client:
        number = 0
        while soak.going():
            number += 1
            start = time.monotonic()
            try:
                client.run(
                    pixels.tobytes(),
                    params={**TINY, "seed": number},
                    on_busy=lambda _busy, _wait: None,
                    **layout(pixels),
                )
            except ReverieError as error:
                soak.failed_dreams.append(f"at {soak.elapsed():.0f} s: {type(error).__name__}: {error}")
                continue
            soak.dreams.append(time.monotonic() - start)


def unfinished(soak: Soak) -> None:
    """An unfinished message of many 16 MB frames, again and again (three threads run this)."""
    while soak.going():
        unfinished_message(soak.server.endpoint, FRAME, 16)
        soak.count("unfinished")


def many_frames(soak: Soak) -> None:
    """A complete message of 24 frames of 64 MB, each under MAXMSGSIZE."""
    frame = bytes(64 * 1000 * 1000)
    with zmq.Context() as context:
        while soak.going():
            with context.socket(zmq.DEALER) as sock:
                sock.linger = 0
                sock.connect(soak.server.endpoint)
                sock.send_multipart([b"", header(type="hello", req="h"), *[frame] * 24], copy=False)
                sock.poll(10_000)
            soak.count("many_frames")


def big_header(soak: Soak) -> None:
    """A 60 MB frame where a header belongs."""
    with zmq.Context() as context:
        while soak.going():
            with context.socket(zmq.DEALER) as sock:
                sock.linger = 0
                sock.connect(soak.server.endpoint)
                sock.send_multipart([b"", bytes(60 * MB)], copy=False)
                sock.poll(10_000)
            soak.count("big_header")


def never_reads(soak: Soak) -> None:
    """Dreams of 700×700 f32 RGBA from a peer that keeps its connection alive but reads nothing."""
    side = 700
    fields = {"width": side, "height": side, "channels": 4, "dtype": "f32"}
    pixels = bytes(side * side * 16)
    while soak.going():
        with raw_peer(soak.server.endpoint, receive_buffer=16 * 1024) as peer:
            for number in range(8):
                peer.send_frame(b"")
                peer.send_frame(header(type="dream", job=f"n{number}", params={**TINY, "seed": 1}, image=fields))
                peer.send_frame(pixels, more=False)
            until = min(soak.deadline, time.monotonic() + 60)
            while time.monotonic() < until:
                peer.ping()
                time.sleep(1)
        soak.count("never_reads")


def snapshots_unread(soak: Soak) -> None:
    """An endless dream asking for 2048² snapshots every 50 ms, whose client reads nothing."""
    fields = {"width": 1000, "height": 1000, "channels": 3, "dtype": "u8"}
    pixels = image(1000, 1000, 3, "u8").tobytes()
    while soak.going():
        with raw_peer(soak.server.endpoint, receive_buffer=16 * 1024) as peer:
            snapshots = {"every_ms": 50, "max_side": 2048}
            peer.send_frame(b"")
            peer.send_frame(header(type="dream", job="snaps", params=ENDLESS, image=fields, snapshots=snapshots))
            peer.send_frame(pixels, more=False)
            until = min(soak.deadline, time.monotonic() + 60)
            while time.monotonic() < until:
                peer.ping()
                time.sleep(1)
        soak.count("snapshots_unread")


def guides(soak: Soak) -> None:
    """A thin 2048×1 guide (refused) and a 2000×2000 one, on a 64×64 dream."""
    pixels = image(64, 64, 3, "u8")
    thin, large = image(2048, 1, 3, "u8"), image(2000, 2000, 3, "u8")
    with DreamClient(soak.server.endpoint, timeout=300) as client:
        while soak.going():
            for guide in (thin, large):
                try:
                    client.run(
                        pixels.tobytes(),
                        params={**TINY, "steps": 1, "seed": 1},
                        guide=Guide(guide.tobytes(), **layout(guide)),
                        **layout(pixels),
                    )
                except ReverieError:
                    soak.count("guides refused")
                soak.count("guides")


def queue_fill(soak: Soak) -> None:
    """Five connections each keeping its share of the queue full of endless jobs."""
    pixels = image(96, 96, 3, "u8").tobytes()
    clients = [DreamClient(soak.server.endpoint, timeout=120) for _ in range(5)]
    try:
        while soak.going():
            for client in clients:
                try:
                    client.submit(pixels, width=96, height=96, channels=3, dtype="u8", params=ENDLESS)
                    soak.count("queue_fill taken")
                except ReverieError:
                    soak.count("queue_fill refused")
            time.sleep(5)
    finally:
        for client in clients:
            client.close()


def idle_sockets(soak: Soak) -> None:
    """200 connected DEALERs that never say anything, held for the whole soak."""
    with zmq.Context() as context:
        sockets = []
        for _ in range(200):
            sock = context.socket(zmq.DEALER)
            sock.linger = 0
            sock.connect(soak.server.endpoint)
            sockets.append(sock)
        soak.count("idle_sockets")
        while soak.going():
            time.sleep(1)
        for sock in sockets:
            sock.close()


def connect(endpoint: str) -> socket.socket:
    """A plain connection to the server's endpoint (TCP or ipc), that speaks no ZMTP."""
    if endpoint.startswith("ipc://"):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(5)
        sock.connect(endpoint.removeprefix("ipc://"))
        return sock
    host, port = endpoint.removeprefix("tcp://").rsplit(":", 1)
    return socket.create_connection((host, int(port)), timeout=5)


def reconnecting(soak: Soak) -> None:
    """50 connections made and dropped at once, over and over."""
    while soak.going():
        batch = []
        for _ in range(50):
            try:
                batch.append(connect(soak.server.endpoint))
            except OSError:
                soak.count("reconnecting failed")
        for connection in batch:
            connection.close()
        soak.count("reconnecting batches")
        time.sleep(0.2)


def malformed(soak: Soak) -> None:
    """Dreams with parameters out of range (steps 10**400, NaN, a 1×100000 image), answered with errors."""
    bad = [
        ({**TINY, "steps": 10**400}, {"width": 100, "height": 100, "channels": 1, "dtype": "u8"}, 10_000),
        ({**TINY, "jitter": float("nan")}, {"width": 100, "height": 100, "channels": 1, "dtype": "u8"}, 10_000),
        (TINY, {"width": 100_000, "height": 1, "channels": 1, "dtype": "u8"}, 100_000),
    ]
    with zmq.Context() as context, context.socket(zmq.DEALER) as sock:
        sock.linger = 0
        sock.connect(soak.server.endpoint)
        number = 0
        while soak.going():
            for params, fields, size in bad:
                number += 1
                sock.send_multipart(
                    [b"", header(type="dream", job=f"m{number}", params=params, image=fields), bytes(size)]
                )
                if sock.poll(10_000):
                    sock.recv_multipart()
                soak.count("malformed")
            time.sleep(0.1)


def claimed_ids(soak: Soak) -> None:
    """50 peers claiming the routing ids an unseeded libzmq hands out first, every 10 s."""
    with zmq.Context() as context:
        while soak.going():
            claimed = []
            for number in range(50):
                sock = context.socket(zmq.DEALER)
                sock.linger = 0
                sock.setsockopt(zmq.ROUTING_ID, b"\x00" + (0x6B8B4567 + number).to_bytes(4, "big"))
                sock.connect(soak.server.endpoint)
                sock.send_multipart([b"", header(type="hello", req="claim")])
                claimed.append(sock)
            time.sleep(10)
            for sock in claimed:
                sock.close()
            soak.count("claimed_ids")


ATTACKS: list[Callable[[Soak], None]] = [
    unfinished,
    unfinished,
    unfinished,
    many_frames,
    big_header,
    never_reads,
    snapshots_unread,
    guides,
    queue_fill,
    idle_sockets,
    reconnecting,
    malformed,
    claimed_ids,
]


class _Recorded(logging.Handler):
    """Keeps the client library's log lines in the report, each with when in the soak it came."""

    def __init__(self, soak: Soak) -> None:
        super().__init__()
        self.soak = soak

    def emit(self, record: logging.LogRecord) -> None:
        self.soak.client_log.append(f"at {self.soak.elapsed():.0f} s: {record.getMessage()}")


def guarded(work: Callable[[Soak], None], soak: Soak) -> Callable[[], None]:
    """A thread's body: an attack that fails (a refused socket, a timeout) is recorded, and started again."""

    def body() -> None:
        while soak.going():
            try:
                work(soak)
            except (OSError, zmq.ZMQError, ReverieError, ConnectionError) as error:
                soak.errors[work.__name__] = f"{type(error).__name__}: {error}"
                soak.count(f"{work.__name__} errors")
                time.sleep(1)

    return body


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--transport", choices=("tcp", "ipc"), default="tcp")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        config = Path(home) / "config.toml"
        config.write_text("[limits]\n" + "".join(f"{key} = {value}\n" for key, value in LIMITS.items()))
        endpoint = f"ipc://{home}/soak.sock" if args.transport == "ipc" else None
        server = start_server(Path(home), "--config", str(config), endpoint=endpoint)
        ready = memory(server.process.pid)["VmRSS"]
        soak = Soak(server, args.minutes * 60)
        samples: list[tuple[float, int]] = []
        began = soak.began
        client_log = logging.getLogger("reverie_wire.client")
        client_log.setLevel(logging.INFO)
        client_log.addHandler(_Recorded(soak))
        threads = [threading.Thread(target=polite, args=(soak,), daemon=True)]
        threads += [threading.Thread(target=guarded(attack, soak), daemon=True) for attack in ATTACKS]
        for thread in threads:
            thread.start()
        while soak.going():
            samples.append((time.monotonic() - began, memory(server.process.pid)["VmRSS"]))
            time.sleep(1)
        alive = server.process.poll() is None
        for thread in threads:
            thread.join(120)
        log = server.log.read_text()
        args.out.with_suffix(".log").write_text(log)  # the server's log, kept beside the report
        exit_code = server.stop() if alive else server.process.returncode
        dreams = soak.dreams
        report = {
            "minutes": args.minutes,
            "transport": args.transport,
            "limits": LIMITS,
            "ready_rss": ready,
            "peak_rss": max(rss for _, rss in samples),
            "samples": samples,
            "alive_at_end": alive,
            "seconds_run": time.monotonic() - began,
            "exit_code": exit_code,
            "tracebacks": log.count("Traceback"),
            "log_bytes": len(log.encode()),
            "dreams": {
                "count": len(dreams),
                "failed": soak.failed_dreams,
                "median_s": statistics.median(dreams) if dreams else None,
                "p90_s": statistics.quantiles(dreams, n=10)[-1] if len(dreams) > 1 else None,
                "max_s": max(dreams) if dreams else None,
                "times_s": dreams,
            },
            "client_log": soak.client_log,
            "attacks": soak.counts,
            "last_errors": soak.errors,
            "threads_still_running": [thread.name for thread in threads if thread.is_alive()],
        }
        args.out.write_text(json.dumps(report, indent=1))
        print(json.dumps({key: value for key, value in report.items() if key not in ("samples",)}, indent=1))


if __name__ == "__main__":
    main()
