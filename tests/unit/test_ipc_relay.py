"""The ipc relay on real Unix sockets, with a plain listener standing in for the ROUTER: it carries bytes both
ways, counts them per link, names each link so the ROUTER's side leads to it, and a cut on the ROUTER's side
closes the client's."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from reverie.serving.ipc_relay import IpcRelay, peer_name


@pytest.fixture
def relay(tmp_path: Path) -> Iterator[tuple[IpcRelay, socket.socket]]:
    relay = IpcRelay(str(tmp_path / "dream.sock"))
    router = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    router.bind(relay.router_endpoint.removeprefix("ipc://"))
    router.listen()
    router.settimeout(10)
    relay.listen()
    relay.start()
    yield relay, router
    router.close()
    if relay.is_alive():
        relay.stop()


def receive(sock: socket.socket, count: int) -> bytes:
    data = bytearray()
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        assert chunk, "closed early"
        data += chunk
    return bytes(data)


def eventually(check: object, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline
        time.sleep(0.01)


def test_it_carries_and_counts_both_ways_and_the_routers_side_names_the_link(
    relay: tuple[IpcRelay, socket.socket],
) -> None:
    relay_thread, router = relay
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
        client.settimeout(10)
        client.connect(relay_thread.public_path)
        behind, _ = router.accept()
        with behind:
            behind.settimeout(10)
            name = peer_name(behind.fileno())
            assert name is not None
            sent = bytes(range(256)) * 8192  # 2 MiB: more than the relay holds at once
            sending = threading.Thread(target=client.sendall, args=(sent,))  # it waits on the reader: back-pressure
            sending.start()
            assert receive(behind, len(sent)) == sent
            sending.join()
            eventually(lambda: relay_thread.received(name) == len(sent))
            behind.sendall(b"answer")
            assert receive(client, 6) == b"answer"
            eventually(lambda: relay_thread.delivered(name) == 6)
            behind.shutdown(socket.SHUT_RDWR)  # what the guard does to a connection over its allowance
            assert client.recv(1) == b"", "a cut on the ROUTER's side closes the client's"
            eventually(lambda: relay_thread.received(name) is None)


def test_stopping_removes_the_socket_files(relay: tuple[IpcRelay, socket.socket]) -> None:
    relay_thread, _ = relay
    public, private = Path(relay_thread.public_path), Path(relay_thread.router_endpoint.removeprefix("ipc://"))
    assert public.exists() and private.parent.stat().st_mode & 0o077 == 0
    relay_thread.stop()
    assert not public.exists() and not private.parent.exists()


def test_clients_wait_while_the_routers_backlog_is_full_and_the_links_made_keep_going(tmp_path: Path) -> None:
    relay = IpcRelay(str(tmp_path / "dream.sock"))
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as router:
        router.bind(relay.router_endpoint.removeprefix("ipc://"))
        router.listen(0)  # room for one waiting connection: the others find it full until one is accepted
        router.settimeout(10)
        relay.listen()
        relay.start()
        clients = [socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) for _ in range(4)]
        try:
            clients[0].connect(relay.public_path)
            first, _ = router.accept()
            with first:
                first.settimeout(3)  # the relay must not stop for the clients it holds back
                for client in clients[1:]:
                    client.connect(relay.public_path)
                    client.sendall(b"x")
                clients[0].sendall(b"ping")
                assert receive(first, 4) == b"ping"
            for _ in clients[1:]:  # every client held back reaches the ROUTER once it accepts again
                behind, _ = router.accept()
                with behind:
                    behind.settimeout(10)
                    assert behind.recv(1) == b"x"
        finally:
            for client in clients:
                client.close()
            relay.stop()
