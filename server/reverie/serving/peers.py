"""Who a client is: its connection, never the routing id it could have chosen.

A ZeroMQ peer may name its own routing id, and ROUTER takes it. libzmq numbers the others from a start drawn with
the C library's ``rand()``, which nobody seeds, so the numbers it will hand out are known in advance: a peer that
claimed the next one made libzmq abort on an assertion when a real client got it, and a peer reconnecting under a
vanished client's id would receive that client's messages. So the C library's generator is seeded from the
operating system before the server's socket is made (its ids cannot be guessed; a peer can only claim ids with
connections, which the connection limit bounds), ROUTER_HANDOVER stays off (an id in use is never taken over), and
every job belongs to the connection that sent it: a descriptor and the socket behind it, checked before anything
is sent for the job.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import hashlib
import ipaddress
import os
import secrets
import socket
from typing import Any

import zmq

from reverie_wire.errors import ConfigError

# A process-wide key, so log lines can tell clients apart without showing routing ids.
_TAG_KEY = secrets.token_bytes(16)

Connection = tuple[int, int]  # (descriptor, the socket's inode): the inode tells a reused descriptor apart


def seed_routing_ids() -> None:
    """Seed the C library's ``rand()`` from the OS before a ROUTER is made, so its routing ids cannot be guessed."""
    name = ctypes.util.find_library("c")
    libc = ctypes.CDLL(name) if name else ctypes.CDLL(None)
    libc.srand(ctypes.c_uint(secrets.randbits(32)))


def connection_of(frame: Any) -> Connection | None:
    """The connection a received frame came over; None where ZeroMQ does not say (inproc)."""
    try:
        fd = frame.get(zmq.SRCFD)
        return fd, os.fstat(fd).st_ino
    except (zmq.ZMQError, AttributeError, OSError):
        return None


def still_open(connection: Connection | None) -> bool:
    """Whether that connection is still the one behind its descriptor."""
    if connection is None:
        return True
    fd, inode = connection
    try:
        return os.fstat(fd).st_ino == inode
    except OSError:
        return False


def refuse_taken_ipc(endpoint: str) -> None:
    """Refuse an ``ipc://`` endpoint another process listens on: ZeroMQ would remove its socket file and take over
    its clients. A socket file nobody listens on (left by a server that died) may be bound again."""
    if not endpoint.startswith("ipc://"):
        return
    path = endpoint.removeprefix("ipc://")
    if not os.path.exists(path):
        return
    with contextlib.closing(socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)) as probe:
        try:
            probe.connect(path)
        except OSError:
            return
    raise ConfigError(
        f"another process listens on {endpoint}; a second server would take its clients. Stop it first "
        "(`reverie stop --endpoint ...`) or choose another endpoint"
    )


def tag(route: tuple[bytes, ...]) -> str:
    """A short name for a client in the log that does not reveal its routing id."""
    return hashlib.blake2b(b"".join(route), key=_TAG_KEY, digest_size=4).hexdigest()


def address_of(fd: int) -> str | None:
    """The host a TCP connection comes from (its rate-limited log lines are counted per host); None for others."""
    try:
        with socket.fromfd(fd, socket.AF_INET, socket.SOCK_STREAM) as duplicate:
            address = duplicate.getpeername()
    except OSError:
        return None
    return address[0] if isinstance(address, tuple) else None


def remote_host(fd: int) -> str | None:
    """The host of a TCP connection from another machine; None for loopback, ipc and a connection already gone."""
    host = address_of(fd)
    return None if host is None or ipaddress.ip_address(host).is_loopback else host


def peer_of(frame: Any, connection: Connection | None) -> object:
    """Who sent a message, for each peer's share of the jobs: a CURVE client's key (however many connections it
    opens), else a remote host, else (loopback, ipc: this machine's users) its connection."""
    with contextlib.suppress(zmq.ZMQError, AttributeError, UnicodeDecodeError):
        key = frame.get("User-Id")
        if key:
            return ("key", key)
    host = None if connection is None else remote_host(connection[0])
    if host is not None:
        return ("host", host)
    return ("connection", connection)
