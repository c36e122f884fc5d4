"""Scale-out: several dream servers behind one endpoint, through ZeroMQ's own proxy (``zmq.proxy``).

Clients connect to the broker's ROUTER exactly as to a server; its DEALER connects to every
server and hands each request to the next one in turn. Replies find their way back through the
routing envelope. A cancel is the one request the broker reads: it goes to every server, since only
one holds the job, and the others' ``unknown_job`` answers are kept back unless all of them say so.
See PROTOCOL.md for what a broker cannot do (notice a vanished client).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

import zmq

from reverie import keys
from reverie_wire import protocol
from reverie_wire.config import KeyFiles
from reverie_wire.errors import ConfigError, ReverieError, UnknownJob
from reverie_wire.keys import client_options
from reverie_wire.protocol import Limits

log = logging.getLogger("reverie.broker")

# A cancel's fan-out is forgotten after this long (a server that never answers, a reply lost).
CANCEL_MEMORY_SECONDS = 30.0


def _small_header(frames: list[Any]) -> tuple[list[Any], dict[str, Any]] | None:
    """``(envelope, header)`` of a message without a payload (cancels and their answers), else None."""
    envelope, body = protocol.split(frames)
    if len(body) != 1:
        return None
    try:
        return envelope, protocol.decode_header(body[0])
    except ReverieError:  # not ours to judge: the server answers whatever it is
        return None


def _cancel_key(envelope: list[Any], job: str) -> tuple[bytes, ...]:
    """A cancel's client and job, as its fan-out is remembered."""
    return (*(bytes(frame) for frame in envelope), job.encode())


class CancelFanOut:
    """Sends a client's cancel to every server and keeps back the ``unknown_job`` answers of those not holding
    the job, so a cancel sent once (a client closing mid-job) always reaches the job."""

    def __init__(self, servers: int) -> None:
        self.servers = servers
        self._pending: dict[tuple[bytes, ...], tuple[int, float]] = {}

    def request(self, frames: list[Any], back: zmq.Socket) -> None:
        small = _small_header(frames)
        if small is None or small[1].get("type") != protocol.CANCEL or not isinstance(small[1].get("job"), str):
            back.send_multipart(frames, copy=False)
            return
        self._pending[_cancel_key(small[0], small[1]["job"])] = (self.servers, time.monotonic())
        for _ in range(self.servers):  # the DEALER hands one copy to each connected server in turn
            back.send_multipart([bytes(frame) for frame in frames])

    def reply(self, frames: list[Any], front: zmq.Socket) -> None:
        small = _small_header(frames) if self._pending else None  # only a fan-out's answers are read
        if small is not None and isinstance(small[1].get("job"), str):
            key = _cancel_key(small[0], small[1]["job"])
            if key in self._pending:
                if small[1].get("code") == UnknownJob.code:
                    left, since = self._pending[key]
                    if left > 1:
                        self._pending[key] = (left - 1, since)
                        return  # another server holds it
                del self._pending[key]
        front.send_multipart(frames, copy=False)

    def expire(self) -> None:
        now = time.monotonic()
        for key, (_, since) in list(self._pending.items()):
            if now - since > CANCEL_MEMORY_SECONDS:
                del self._pending[key]


def _forward(front: zmq.Socket, back: zmq.Socket, servers: int) -> None:
    """zmq.proxy's loop, with cancels fanned out to every server."""
    fan_out = CancelFanOut(servers)
    poller = zmq.Poller()
    poller.register(front, zmq.POLLIN)
    poller.register(back, zmq.POLLIN)
    while True:
        ready = dict(poller.poll(1000))
        if front in ready:
            fan_out.request(front.recv_multipart(copy=False), back)
        if back in ready:
            fan_out.reply(back.recv_multipart(copy=False), front)
        fan_out.expire()


def run_broker(frontend: str, backends: Sequence[str], key_files: KeyFiles, limits: Limits) -> None:
    """Serve until the process is stopped; raises ConfigError for an unusable endpoint or key."""
    if not backends:
        raise ConfigError("a broker needs at least one --backend server endpoint")
    context = zmq.Context()
    front = context.socket(zmq.ROUTER)
    front.setsockopt(zmq.MAXMSGSIZE, limits.max_message_bytes)
    authenticator = keys.secure(front, frontend, key_files)
    back = context.socket(zmq.DEALER)
    back.setsockopt(zmq.IMMEDIATE, 1)  # hand requests only to servers that are connected
    options = client_options(key_files)
    if "server_public_key" in options:
        public, secret = options.get("client_keys") or zmq.curve_keypair()
        back.curve_serverkey = options["server_public_key"]
        back.curve_publickey = public
        back.curve_secretkey = secret
    try:
        front.bind(frontend)
        for backend in backends:
            back.connect(backend)
    except zmq.ZMQError as error:
        raise ConfigError(f"cannot use the broker endpoints: {error}") from None
    log.info("broker on %s in front of %s", frontend, ", ".join(backends))
    try:
        _forward(front, back, len(backends))
    finally:
        front.close(linger=0)
        back.close(linger=0)
        if authenticator is not None:
            authenticator.stop()
        context.term()
