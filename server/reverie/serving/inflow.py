"""What a peer can make the server hold before its message is complete, bounded from outside ZeroMQ.

libzmq hands a multipart message to the server only once its last frame has arrived, and MAXMSGSIZE bounds each
frame, not the message: a peer can make the server's I/O thread hold any number of frames, and keep them by never
ending the message. No socket option bounds that. So a thread watches each TCP connection: the kernel counts the
bytes a connection has received (``TCP_INFO``), the server counts the bytes of the messages it has taken from it
(every frame names its connection's descriptor, ``ZMQ_SRCFD``). A connection holding more than its allowance is
shut down, which makes libzmq close it and free what it held. The same thread shuts down connections beyond the
connection limit as soon as they are accepted, so a flood of connections never exhausts the descriptors, and
those beyond a remote host's share of the slots (``HOST_SHARE``), so one host cannot take them all; a CURVE key
is held to the same share from the first message that shows it.

An ``ipc://`` endpoint is watched the same way through its relay (``ipc_relay``), whose counts of the bytes each
link carried stand in for the kernel's, which Linux keeps only for TCP.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import struct
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import zmq
from zmq.utils.monitor import recv_monitor_message

from reverie.serving import peers
from reverie.serving.budget import MemoryBudget
from reverie.serving.ipc_relay import IpcRelay, peer_name
from reverie.serving.ratelog import PeerLog

log = logging.getLogger("reverie.server")

# How often the connections are looked at: what a peer can send past its allowance before it is cut.
CHECK_INTERVAL = 0.01
# Room for the greeting, the handshake and ZeroMQ's heartbeats, which the server never sees as messages.
HANDSHAKE_BYTES = 1 << 20
HEARTBEAT_BYTES_PER_SECOND = 64
# What an encrypted frame adds on the wire (CURVE's MESSAGE command, nonce and authenticator).
CURVE_FRAME_BYTES = 48
# Where struct tcp_info keeps tcpi_bytes_acked and tcpi_bytes_received (Linux 4.1 and later).
_COUNTER = struct.Struct("<Q")
_BYTES_ACKED_AT, _BYTES_RECEIVED_AT = 120, 128
# A remote host may hold at most this share of max_connections; loopback and ipc peers are counted per connection
# (this machine's users cannot be told apart by address: counting them as one would give the plug-in and the
# command line one share). A CURVE key is known only from its first message, once the slot is taken: its
# connections past the same share are cut then.
HOST_SHARE = 4
_EVENTS = zmq.EVENT_ACCEPTED | zmq.EVENT_DISCONNECTED | zmq.EVENT_CLOSED


def wire_bytes(frames: list[Any], encrypted: bool) -> int:
    """The bytes a message's frames took on the wire after the routing id ROUTER adds itself (ZMTP 3 framing)."""
    total = 0
    for frame in frames[1:]:
        size = len(frame)
        total += size + (2 if size < 256 else 9) + (CURVE_FRAME_BYTES if encrypted else 0)
    return total


def _tcp_counter(fd: int, offset: int) -> int | None:
    """One of the kernel's byte counters of a TCP connection; None when it is not (or no longer) a TCP socket."""
    try:
        with socket.fromfd(fd, socket.AF_INET, socket.SOCK_STREAM) as duplicate:
            info = duplicate.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 256)
    except OSError:
        return None
    if len(info) < offset + _COUNTER.size:
        return None
    return _COUNTER.unpack_from(info, offset)[0]


def _key_of(frame: Any) -> bytes | None:
    """The CURVE key a message came with (ZeroMQ's ``User-Id``), if any."""
    with contextlib.suppress(zmq.ZMQError, AttributeError, UnicodeDecodeError):
        key = frame.get("User-Id")
        if key:
            return str(key).encode()
    return None


def _peer(fd: int, connection: _Connection) -> object:
    """Whose allowance a connection's bytes in flight count against: its CURVE key once a message has shown it,
    else its remote host, else (loopback, ipc) the connection itself; the rule of ``peers.peer_of``."""
    if connection.key is not None:
        return ("key", connection.key)
    if connection.host is not None:
        return ("host", connection.host)
    return ("connection", fd)


def _shut(fd: int) -> None:
    with contextlib.suppress(OSError), socket.fromfd(fd, socket.AF_INET, socket.SOCK_STREAM) as duplicate:
        duplicate.shutdown(socket.SHUT_RDWR)


@dataclass
class _Connection:
    host: str | None = None  # a remote peer's address; None for loopback and ipc peers
    link: str | None = None  # the ipc relay's name for the link behind it; None for TCP
    key: bytes | None = None  # a CURVE client's key, once a message of its has shown it
    accepted: float = field(default_factory=time.monotonic)
    taken: int = 0  # wire bytes of the messages the server has read
    cut: bool = False


class InflowGuard(threading.Thread):
    """Cuts connections (TCP, and ipc links through ``relay``) that hold more than ``allowance`` unread bytes, and
    those beyond ``max_connections``.

    ``taken`` is called by the server's thread for every message it reads; everything else runs here.
    """

    def __init__(
        self,
        router: zmq.Socket,
        allowance: int,
        max_connections: int,
        encrypted: bool,
        budget: MemoryBudget,
        relay: IpcRelay | None = None,
    ) -> None:
        super().__init__(name="reverie-inflow", daemon=True)
        self.allowance = allowance
        self.budget = budget
        self.max_connections = max_connections
        self.peer_slots = max(1, max_connections // HOST_SHARE)  # one remote host's, or one CURVE key's
        self.encrypted = encrypted
        self.relay = relay
        self._monitor = router.get_monitor_socket(_EVENTS)
        self._connections: dict[int, _Connection] = {}
        # routing id -> its connection (descriptor, socket inode), recorded by the server's thread as it reads, so
        # what a client has not read is measured even before this thread has seen its connection accepted
        self._descriptors: dict[bytes, peers.Connection] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._log = PeerLog(log)  # a peer reconnecting in a loop must not fill the log
        self.cuts = 0

    def taken(self, frames: list[Any]) -> bool:
        """Count a message the server has read against its connection; False when the message is the first of a
        CURVE key that already holds its share of the slots: the connection is cut and the message not answered."""
        try:
            fd = frames[-1].get(zmq.SRCFD)
        except (zmq.ZMQError, AttributeError):
            return True
        size = wire_bytes(frames, self.encrypted)
        key = _key_of(frames[-1]) if self.encrypted else None
        opened = peers.connection_of(frames[-1])
        with self._lock:
            if opened is not None:
                self._descriptors[frames[0].bytes] = opened
            connection = self._connections.get(fd)
            if connection is None:
                return True
            connection.taken += size
            self.budget.in_flight = max(0, self.budget.in_flight - size)  # read now: the job counts it
            if key is None or connection.key is not None:
                return True
            connection.key = key
            holding = sum(1 for known in self._connections.values() if known.key == key and not known.cut) - 1
        if holding < self.peer_slots:
            return True
        self._log.log(
            ("key", key),
            logging.WARNING,
            "refused a connection of client key %s: it holds %d, one key's share of [limits] max_connections",
            key.decode(),
            holding,
        )
        self._cut(fd)
        return False

    def acknowledged(self, routing_id: bytes) -> int | None:
        """The bytes a client's connection has acknowledged receiving (its kernel's, whether or not the client has
        read them); None where that cannot be known (an ipc peer, a connection gone)."""
        with self._lock:
            opened = self._descriptors.get(routing_id)
        if opened is None or not peers.still_open(opened):
            return None
        fd = opened[0]
        if self.relay is not None:
            link = peer_name(fd)  # read now: this thread may not have seen the connection accepted yet
            return None if link is None else self.relay.delivered(link)
        return _tcp_counter(fd, _BYTES_ACKED_AT)

    def _received(self, fd: int, connection: _Connection) -> int | None:
        """The bytes a connection has received: the kernel's count for TCP, the relay's for an ipc link."""
        if connection.link is not None and self.relay is not None:
            return self.relay.received(connection.link)
        return _tcp_counter(fd, _BYTES_RECEIVED_AT)

    def stop(self) -> None:
        self._stopping.set()
        self.join()

    def run(self) -> None:
        try:
            while not self._stopping.is_set():
                events = []
                while self._monitor.poll(0):
                    events.append(recv_monitor_message(self._monitor))
                self._on_events(events)
                self._check()
                self._monitor.poll(int(CHECK_INTERVAL * 1000))
        finally:
            self._monitor.close(linger=0)

    def _on_events(self, events: Sequence[Mapping[str, Any]]) -> None:
        """Take the connection events in order. An accept whose connection closed again later in the same batch is
        passed over: its descriptor may by now be another connection's (a client that came after), which a
        refusal would cut instead."""
        last_close = {
            int(event["value"]): at for at, event in enumerate(events) if event["event"] != zmq.EVENT_ACCEPTED
        }
        for at, event in enumerate(events):
            fd = int(event["value"])
            if event["event"] != zmq.EVENT_ACCEPTED:
                self._closed(fd)
            elif last_close.get(fd, -1) < at:
                self._accepted(fd)

    def _closed(self, fd: int) -> None:
        with self._lock:
            self._connections.pop(fd, None)
            gone = [r for r, known in self._descriptors.items() if known[0] == fd and not peers.still_open(known)]
            for routing_id in gone:  # a later connection on the same descriptor keeps its own
                del self._descriptors[routing_id]

    def _accepted(self, fd: int) -> None:
        host = peers.remote_host(fd)
        link = None if self.relay is None else peer_name(fd)
        with self._lock:
            open_now = len(self._connections)
            from_host = sum(1 for known in self._connections.values() if host is not None and known.host == host)
            self._connections[fd] = _Connection(host, link)
        if open_now >= self.max_connections:
            self._log.log(
                "refused",  # one stream: a refused peer may be gone before its address is read
                logging.WARNING,
                "refused a connection: %d are open, the limit ([limits] max_connections)",
                self.max_connections,
            )
            self._cut(fd)
        elif from_host >= self.peer_slots:
            self._log.log(
                host,
                logging.WARNING,
                "refused a connection from %s: it holds %d, one host's share of [limits] max_connections",
                host,
                from_host,
            )
            self._cut(fd)

    def _check(self) -> None:
        with self._lock:
            watched = [(fd, c) for fd, c in self._connections.items() if not c.cut]
        now = time.monotonic()
        holding: dict[int, int] = {}
        by_peer: dict[object, dict[int, float]] = {}  # each peer's connections: what each holds past its slack
        for fd, connection in watched:
            received = self._received(fd, connection)
            if received is None:
                continue
            with self._lock:
                held = received - connection.taken
            holding[fd] = received
            slack = HANDSHAKE_BYTES + HEARTBEAT_BYTES_PER_SECOND * (now - connection.accepted)
            by_peer.setdefault(_peer(fd, connection), {})[fd] = max(0, held - slack)
        for connections in by_peer.values():
            while sum(connections.values()) > self.allowance:
                fd = max(connections, key=connections.__getitem__)
                excess, together, count = connections[fd], sum(connections.values()), len(connections)
                del connections[fd], holding[fd]
                address = peers.address_of(fd)
                self._cut(fd)  # first: every millisecond lets more of the message in
                self._log.log(
                    address,
                    logging.WARNING,
                    "cut a connection holding %.0f MB of an unfinished message; its client held %.0f MB over %d "
                    "connections (the allowance is %.0f MB)",
                    excess / 1e6,
                    together / 1e6,
                    count,
                    self.allowance / 1e6,
                )
        self._keep_within_budget(holding)

    def _keep_within_budget(self, received: dict[int, int]) -> None:
        """Cut the connections holding the most until all together are within the server's memory budget. One is
        always let through (its own allowance bounds it), so a job sent while the server is full is answered
        ``busy`` rather than lost with its connection. ``received``: each connection's count from the kernel."""
        with self._lock:
            sending = {fd: held for fd, held in self._held(received).items() if held > HANDSHAKE_BYTES}
        in_flight = sum(sending.values())
        while len(sending) > 1 and self.budget.over_by(in_flight) > 0:
            fd = max(sending, key=sending.__getitem__)
            held = sending.pop(fd)
            self._log.log(
                peers.address_of(fd),
                logging.WARNING,
                "cut a connection holding %.0f MB of an unfinished message: the clients together would pass the "
                "server's memory budget of %.0f MB ([limits] memory_budget)",
                held / 1e6,
                self.budget.total / 1e6,
            )
            self._cut(fd)
            in_flight -= held
        with self._lock:  # what the server took meanwhile is not in flight any more
            self.budget.in_flight = sum(self._held({fd: received[fd] for fd in sending}).values())

    def _held(self, received: dict[int, int]) -> dict[int, int]:
        """What each connection holds: received, less what the server has taken from it by now (the caller holds
        the lock)."""
        return {
            fd: max(0, count - self._connections[fd].taken) for fd, count in received.items() if fd in self._connections
        }

    def _cut(self, fd: int) -> None:
        with self._lock:
            connection = self._connections.get(fd)
            if connection is None or connection.cut:
                return
            connection.cut = True
        self.cuts += 1
        _shut(fd)
