"""A TCP forwarder between a client and a server whose connections a test can drop, as a network or an overloaded
peer drops them: the sockets close under both ends, and the client may connect again through it."""

from __future__ import annotations

import contextlib
import selectors
import socket
import threading


class DroppingProxy:
    """Forwards every connection made to ``endpoint`` on to ``target`` (``tcp://host:port``) until ``drop``."""

    def __init__(self, target: str) -> None:
        host, port = target.removeprefix("tcp://").rsplit(":", 1)
        self._target = (host, int(port))
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.endpoint = f"tcp://127.0.0.1:{self._listener.getsockname()[1]}"
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._listener, selectors.EVENT_READ)
        self._pairs: dict[socket.socket, socket.socket] = {}
        self._lock = threading.Lock()
        self._waker_read, self._waker_write = socket.socketpair()
        self._selector.register(self._waker_read, selectors.EVENT_READ)
        self._closing = False
        self._thread = threading.Thread(target=self._forward, daemon=True)
        self._thread.start()
        self.connections = 0  # accepted so far

    def _forward(self) -> None:
        while not self._closing:
            for key, _ in self._selector.select():
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                if sock is self._waker_read:
                    sock.recv(64)
                elif sock is self._listener:
                    self._accept()
                else:
                    with self._lock:
                        other = self._pairs.get(sock)
                    if other is None:
                        continue
                    try:
                        data = sock.recv(1 << 16)
                        if data:
                            other.sendall(data)
                            continue
                    except OSError:
                        pass
                    self._close(sock)

    def _accept(self) -> None:
        client, _ = self._listener.accept()
        server = socket.create_connection(self._target)
        with self._lock:
            self._pairs[client], self._pairs[server] = server, client
            self.connections += 1
        self._selector.register(client, selectors.EVENT_READ)
        self._selector.register(server, selectors.EVENT_READ)

    def _close(self, sock: socket.socket) -> None:
        with self._lock:
            other = self._pairs.pop(sock, None)
            if other is not None:
                self._pairs.pop(other, None)
        for end in (sock, other):
            if end is not None:
                self._selector.unregister(end)
                end.close()

    def drop(self) -> None:
        """Close every connection now (both ends see it closed); new ones are forwarded as before."""
        with self._lock:
            ends = list(self._pairs)
        for end in ends:
            with contextlib.suppress(OSError):  # the forwarder closed it meanwhile
                end.shutdown(socket.SHUT_RDWR)
        self._waker_write.send(b"x")

    def close(self) -> None:
        self._closing = True
        self.drop()
        self._thread.join()
        for sock in [*self._pairs, self._listener, self._waker_read, self._waker_write]:
            sock.close()
