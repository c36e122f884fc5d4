"""Who a message comes from, for each peer's share: a CURVE key, a remote host, else the connection."""

from __future__ import annotations

import os
import socket

import zmq

from reverie.serving import peers


class _Frame:
    """A received frame's properties as ZeroMQ answers them."""

    def __init__(self, user_id: str | None) -> None:
        self.user_id = user_id

    def get(self, name: str) -> str:
        assert name == "User-Id"
        if self.user_id is None:
            raise zmq.ZMQError(zmq.EINVAL)
        return self.user_id


def test_a_curve_key_names_the_peer_whatever_its_connection() -> None:
    assert peers.peer_of(_Frame("rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7"), (5, 1)) == (
        "key",
        "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7",
    )


def test_a_loopback_or_unknown_peer_is_its_connection() -> None:
    with socket.create_server(("127.0.0.1", 0)) as server, socket.create_connection(server.getsockname()):
        accepted, _ = server.accept()
        with accepted:
            connection = (accepted.fileno(), os.fstat(accepted.fileno()).st_ino)
            assert peers.address_of(accepted.fileno()) == "127.0.0.1"
            assert peers.peer_of(_Frame(None), connection) == ("connection", connection)
            assert peers.peer_of(_Frame(""), connection) == ("connection", connection)  # NULL mechanism
    assert peers.peer_of(_Frame(None), None) == ("connection", None)


def test_only_a_connection_from_another_machine_has_a_remote_host() -> None:
    with socket.create_server(("127.0.0.1", 0)) as server, socket.create_connection(server.getsockname()):
        accepted, _ = server.accept()
        with accepted:
            assert peers.remote_host(accepted.fileno()) is None
    left, right = socket.socketpair()  # a Unix socket, as an ipc:// peer's
    with left, right:
        assert peers.remote_host(left.fileno()) is None
