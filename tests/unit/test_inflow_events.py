"""The guard's connection events, taken late: an accept whose connection has closed again since must not refuse
whichever connection holds its descriptor now."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
import zmq

from reverie.serving.budget import MemoryBudget
from reverie.serving.inflow import InflowGuard


@pytest.fixture
def full_guard() -> Iterator[InflowGuard]:
    """A guard (not started) for a server with one slot, taken."""
    with zmq.Context() as context, context.socket(zmq.ROUTER) as router:
        guard = InflowGuard(router, allowance=1 << 20, max_connections=1, encrypted=False, budget=MemoryBudget(1 << 30))
        guard._on_events([{"event": zmq.EVENT_ACCEPTED, "value": 10_000}])  # the slot's holder (no such descriptor)
        yield guard
        guard._monitor.close(linger=0)


def test_a_late_accept_of_a_connection_since_closed_cuts_nothing(full_guard: InflowGuard) -> None:
    with socket.create_server(("127.0.0.1", 0)) as server, socket.create_connection(server.getsockname()) as client:
        newcomer, _ = server.accept()  # a client that came after: it has the closed connection's descriptor
        with newcomer:
            fd = newcomer.fileno()
            full_guard._on_events(
                [{"event": zmq.EVENT_ACCEPTED, "value": fd}, {"event": zmq.EVENT_CLOSED, "value": fd}]
            )
            assert full_guard.cuts == 0
            newcomer.sendall(b"still here")
            assert client.recv(16) == b"still here"


def test_an_accept_past_the_limit_is_cut(full_guard: InflowGuard) -> None:
    with socket.create_server(("127.0.0.1", 0)) as server, socket.create_connection(server.getsockname()) as client:
        accepted, _ = server.accept()
        with accepted:
            full_guard._on_events([{"event": zmq.EVENT_ACCEPTED, "value": accepted.fileno()}])
            assert full_guard.cuts == 1
            assert client.recv(16) == b""  # shut down under it
