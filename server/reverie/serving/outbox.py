"""What the server sends, bounded for clients that do not read, and a job's last message never lost.

ZeroMQ keeps everything sent to a connection until the peer reads it, so a client that submits and never reads
would make the server hold every result. The outbox counts the bytes handed to ZeroMQ for each connection and the
kernel's count of those the peer acknowledged (``InflowGuard.acknowledged``): what lies between is held for that
client. ``budget`` is each peer's share (``peers.peer_of``: a CURVE key, a remote host, else one connection), over
all its connections, so more connections give a client no more room. A job's last message (result, cancelled or
error) that would take a peer over ``budget`` waits here instead, as does one ZeroMQ refuses (its queue full);
anything else to such a client is dropped (snapshots, progress and heartbeats say nothing a later message does
not). Messages waiting longer than ``patience`` are given up: their client's jobs are cancelled (the server's
part), it is logged once, and each lost result becomes an error saying so, which reaches the client whenever it
reads again.
"""

from __future__ import annotations

import errno
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import zmq

from reverie.serving import peers
from reverie.serving.ratelog import PeerLog
from reverie_wire import protocol
from reverie_wire.replies import FINAL_TYPES, Error

Route = tuple[bytes, ...]
SENT, GONE = "sent", "gone"


@dataclass
class _Waiting:
    header: dict[str, Any]
    payload: Any
    since: float = field(default_factory=time.monotonic)
    given_up: bool = False  # an error standing for a result given up; dropped if it too waits its time

    @property
    def size(self) -> int:
        return 0 if self.payload is None else len(self.payload)


def _wire_bytes(body: list[Any]) -> int:
    """A message's bytes on the wire (ZMTP 3 framing) after the routing id."""
    return sum(len(frame) + 9 for frame in body)


class Outbox:
    """Sends to clients over one ROUTER; the server's thread only."""

    def __init__(
        self,
        router: zmq.Socket,
        acknowledged: Callable[[bytes], int | None],
        budget: int,
        patience: float,
        peer_log: PeerLog,
        still_here: Callable[[Route], bool],
    ) -> None:
        self._router = router
        self._still_here = still_here
        self._acknowledged = acknowledged
        self.budget = budget
        self.patience = patience
        self._peer_log = peer_log
        self._sent: dict[bytes, int] = {}  # routing id -> bytes handed to ZeroMQ for it
        self._peers: dict[bytes, object] = {}  # routing id -> the peer it belongs to, where known
        self._waiting: dict[Route, deque[_Waiting]] = {}

    def held(self, route: Route) -> int:
        """Bytes sent to this client's connection that it has not acknowledged (0 where that cannot be known)."""
        acknowledged = self._acknowledged(route[0])
        return 0 if acknowledged is None else max(0, self._sent.get(route[0], 0) - acknowledged)

    def know(self, route: Route, peer: object) -> None:
        """Record the peer a client's connection belongs to (every request says it again)."""
        self._peers[route[0]] = peer

    def held_by_peer(self, route: Route) -> int:
        """Bytes sent and not acknowledged over every connection of the peer this client belongs to."""
        peer = self._peers.get(route[0])
        if peer is None:
            return self.held(route)
        return sum(self.held((routing_id,)) for routing_id, known in self._peers.items() if known == peer)

    def held_total(self) -> int:
        """Bytes held for every client: sent and not acknowledged, and waiting here."""
        sent = sum(self.held((routing_id,)) for routing_id in self._sent)
        return sent + sum(item.size for waiting in self._waiting.values() for item in waiting)

    def send(self, route: Route, header: dict[str, Any], payload: Any = None) -> str:
        """Send, or keep a job's last message for later; GONE when the client has disconnected."""
        if not self._still_here(route):
            return GONE
        final = header["type"] in FINAL_TYPES and "job" in header
        if not final and not self._fits(route, payload):  # a snapshot to a client that has not read: dropped
            self._peer_log.log(
                route, logging.WARNING, "client %s is not reading; dropped a %s", peers.tag(route), header["type"]
            )
            return SENT
        waiting = self._waiting.get(route)
        if waiting or (final and not self._fits(route, payload)):
            if final:
                self._wait(route, header, payload)
            return SENT
        result = self._try(route, header, payload)
        if result == errno.EAGAIN:
            if final:
                self._wait(route, header, payload)
            else:
                self._peer_log.log(
                    route,
                    logging.WARNING,
                    "client %s is not reading; dropped a %s message",
                    peers.tag(route),
                    header["type"],
                )
            return SENT
        return GONE if result == errno.EHOSTUNREACH else SENT

    def _fits(self, route: Route, payload: Any) -> bool:
        """Whether a message may go to ZeroMQ now: within its peer's share, or the first since the peer read
        everything."""
        if payload is None:
            return True
        held = self.held_by_peer(route)
        return held == 0 or held + len(payload) <= self.budget

    def waiting_for(self, route: Route) -> bool:
        return bool(self._waiting.get(route))

    def forget(self, route: Route) -> None:
        """A client gone: nothing waits for it any more."""
        self._waiting.pop(route, None)
        if not any(other[0] == route[0] for other in self._waiting):
            self._sent.pop(route[0], None)
            self._peers.pop(route[0], None)

    def flush(self) -> list[Route]:
        """Send what now fits; returns the clients whose messages have waited past ``patience`` (given up now)."""
        expired = []
        now = time.monotonic()
        for route, waiting in list(self._waiting.items()):
            if not self._still_here(route):
                waiting.clear()
            while waiting and self._fits(route, waiting[0].payload):
                first = waiting[0]
                result = self._try(route, first.header, first.payload)
                if result == errno.EAGAIN:
                    break
                waiting.popleft()
                if result == errno.EHOSTUNREACH:
                    waiting.clear()
            if waiting and now - waiting[0].since > self.patience:
                expired.append(route)
                self._give_up(route, waiting)
            if not waiting:
                del self._waiting[route]
        return expired

    def _give_up(self, route: Route, waiting: deque[_Waiting]) -> None:
        """Results become small errors (sent when the client reads again); errors that waited too are dropped."""
        held = self.held(route) + sum(item.size for item in waiting)
        if not all(item.given_up for item in waiting):
            self._peer_log.log(
                route,
                logging.WARNING,
                "client %s read nothing for %.0f s while %.0f MB waited for it; its results are given up and its "
                "jobs cancelled",
                peers.tag(route),
                self.patience,
                held / 1e6,
            )
        kept: deque[_Waiting] = deque()
        for item in waiting:
            if item.given_up:
                continue
            header = item.header
            if item.payload is not None:
                header = Error(
                    "cancelled",
                    f"the result of job {header['job']} was given up: this client read nothing for "
                    f"{self.patience:.0f} s while the server held {held / 1e6:.0f} MB for it; run the job again",
                    job=header["job"],
                ).encode()
            kept.append(_Waiting(header, None, given_up=True))
        waiting.clear()
        waiting.extend(kept)

    def _wait(self, route: Route, header: dict[str, Any], payload: Any) -> None:
        self._waiting.setdefault(route, deque()).append(_Waiting(header, payload))

    def _try(self, route: Route, header: dict[str, Any], payload: Any) -> int:
        """0 when ZeroMQ took the message, else the errno it refused it with (EAGAIN, EHOSTUNREACH)."""
        body = protocol.encode(header, payload)
        try:
            self._router.send_multipart([*route, *body], zmq.NOBLOCK, copy=payload is None)
        except zmq.ZMQError as error:
            if error.errno in (errno.EAGAIN, errno.EHOSTUNREACH):
                return error.errno
            raise
        self._sent[route[0]] = self._sent.get(route[0], 0) + _wire_bytes(body)
        return 0
