"""An ``ipc://`` endpoint's own listener, so what its connections make the server hold is counted as TCP's is.

libzmq holds a multipart message's frames until its last one arrives. For TCP the inflow guard compares the
kernel's count of bytes a connection received (``TCP_INFO``) with what the server has read from it; Linux keeps
no such count for a Unix socket. So for an ``ipc://`` endpoint the server listens on the socket file itself and
relays each connection's bytes to the ROUTER, which listens in a private folder (0700, made here): the relay's
counts stand in for the kernel's, bytes in and bytes out. The relay binds its side of each link to a name of its
own, so the ROUTER's descriptor (every frame names it, ``ZMQ_SRCFD``) leads to the link: ``getpeername`` gives
the name. The guard cuts a link as it cuts a TCP connection (``shutdown`` of the ROUTER's descriptor), and the
relay then closes the client's side. Each direction holds at most one chunk: the relay reads from a side only
once what it read before has been written to the other, so back-pressure reaches both ends as on a direct link.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import selectors
import shutil
import socket
import tempfile
import threading
from dataclasses import dataclass

log = logging.getLogger("reverie.server")

# What one read takes from a side; each link holds at most this much per direction.
CHUNK = 1 << 18
# How often a client held back (the ROUTER's backlog full) tries again; the others wait in the public backlog.
RETRY_SECONDS = 0.01
_BACKLOG = 128


def peer_name(fd: int) -> str | None:
    """The name the other end of a Unix socket is bound to; None for other sockets and for unnamed ends."""
    try:
        with socket.socket(fileno=os.dup(fd)) as duplicate:
            if duplicate.family != socket.AF_UNIX:
                return None
            name = duplicate.getpeername()
    except OSError:
        return None
    return name if isinstance(name, str) and name else None


@dataclass
class _Half:
    """One direction of a link: what was read and not yet written, and how much has been written."""

    source: socket.socket
    target: socket.socket
    pending: memoryview | None = None
    relayed: int = 0
    ended: bool = False  # the source closed its side


class _Link:
    def __init__(self, client: socket.socket, router: socket.socket, name: str) -> None:
        self.name = name
        self.up = _Half(client, router)  # client -> ROUTER
        self.down = _Half(router, client)  # ROUTER -> client

    def sockets(self) -> tuple[socket.socket, socket.socket]:
        return self.up.source, self.up.target


class IpcRelay(threading.Thread):
    """Listens on ``public_path`` and relays every connection to ``router_endpoint`` (bind the ROUTER there first).

    ``received`` and ``delivered`` are read by other threads: whole ints, written here only.
    """

    def __init__(self, public_path: str) -> None:
        super().__init__(name="reverie-ipc-relay", daemon=True)
        self.public_path = public_path
        self._folder = tempfile.mkdtemp(prefix="reverie-")  # 0700: only this user reaches the ROUTER
        self.router_endpoint = f"ipc://{self._folder}/router"
        self._names = (f"{self._folder}/link{number}" for number in itertools.count())
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._wake_read, self._wake_write = socket.socketpair()
        self._selector = selectors.DefaultSelector()
        self._links: dict[str, _Link] = {}
        self._held_back: socket.socket | None = None  # a client accepted while the ROUTER's backlog was full
        self._stopping = False

    def listen(self) -> None:
        """Take the public socket file (a stale one nobody listens on is replaced, as ZeroMQ would)."""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.public_path)
        self._listener.bind(self.public_path)
        self._listener.listen(_BACKLOG)
        self._listener.setblocking(False)

    def received(self, name: str) -> int | None:
        """Bytes the client of link ``name`` sent that were handed to the ROUTER; None for a link not (or no
        longer) open."""
        link = self._links.get(name)
        return None if link is None else link.up.relayed

    def delivered(self, name: str) -> int | None:
        """Bytes from the ROUTER written to the client of link ``name`` (its socket holds them, not the server)."""
        link = self._links.get(name)
        return None if link is None else link.down.relayed

    def unlink(self) -> None:
        """Take the socket files away, so no new client arrives; links already made go on until ``stop``."""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.public_path)
        shutil.rmtree(self._folder, ignore_errors=True)

    def stop(self) -> None:
        self._stopping = True
        with contextlib.suppress(OSError):
            self._wake_write.send(b"x")
        self.join()

    def run(self) -> None:
        selector = self._selector
        selector.register(self._listener, selectors.EVENT_READ)
        selector.register(self._wake_read, selectors.EVENT_READ)
        try:
            while not self._stopping:
                for key, events in selector.select(RETRY_SECONDS if self._held_back is not None else None):
                    if key.fileobj is self._listener:
                        self._accept()
                    elif isinstance(key.data, _Link):
                        self._serve(key.data, key.fileobj, events)
                if self._held_back is not None:
                    self._link(self._held_back)
        finally:
            for link in list(self._links.values()):
                self._close(link)
            if self._held_back is not None:
                self._held_back.close()
            selector.close()
            for end in (self._listener, self._wake_read, self._wake_write):
                end.close()
            self.unlink()

    def _accept(self) -> None:
        try:
            client, _ = self._listener.accept()
        except (BlockingIOError, InterruptedError):
            return
        except OSError as error:  # out of descriptors: clients wait in the backlog until a link closes
            log.warning("ipc relay could not accept a connection (%s); accepting again once a link closes", error)
            self._selector.unregister(self._listener)
            return
        self._link(client)

    def _link(self, client: socket.socket) -> None:
        """Connect a client to the ROUTER. While the ROUTER's backlog is full (libzmq's I/O thread busy) the client
        is held back and nothing more is accepted, so the others wait in the public backlog as TCP clients wait in
        the kernel's, instead of being dropped."""
        name = next(self._names)
        try:
            router = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        except OSError:  # out of descriptors: held back like a full backlog, until a link closes
            router = None
        try:
            if router is None:
                raise BlockingIOError
            router.setblocking(False)  # a Unix connect does not wait: it is made at once, or EAGAIN (backlog full)
            router.bind(name)
            router.connect(self.router_endpoint.removeprefix("ipc://"))
        except BlockingIOError:
            if router is not None:
                router.close()
            if self._held_back is None:
                self._held_back = client
                self._selector.unregister(self._listener)
            return
        except OSError as error:
            log.warning("ipc relay could not reach the server's socket: %s", error)
            client.close()
            if router is not None:
                router.close()
            self._held_back = None
            self._accept_again()
            return
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(name)  # the socket keeps its name; the file is not needed once connected
        client.setblocking(False)
        link = _Link(client, router, name)
        self._links[name] = link
        self._selector.register(client, selectors.EVENT_READ, link)
        self._selector.register(router, selectors.EVENT_READ, link)
        if self._held_back is client:
            self._held_back = None
            self._accept_again()

    def _accept_again(self) -> None:
        if self._listener not in self._selector.get_map() and self._held_back is None and not self._stopping:
            self._selector.register(self._listener, selectors.EVENT_READ)

    def _serve(self, link: _Link, ready: object, events: int) -> None:
        """Move what can move on the link whose socket ``ready`` is ready; close the link once a side is done."""
        try:
            for half in (link.up, link.down):
                if half.source is ready and events & selectors.EVENT_READ and half.pending is None:
                    data = half.source.recv(CHUNK)
                    if data:
                        half.pending = memoryview(data)
                    else:
                        half.ended = True
                if half.pending is not None:
                    sent = half.target.send(half.pending)
                    half.relayed += sent
                    half.pending = half.pending[sent:] if sent < len(half.pending) else None
        except (BlockingIOError, InterruptedError):
            pass
        except OSError:  # reset or cut (the guard shut the ROUTER's side): the link is over
            self._close(link)
            return
        if any(half.ended and half.pending is None for half in (link.up, link.down)):
            self._close(link)
            return
        self._watch(link)

    def _watch(self, link: _Link) -> None:
        """Read a side only while nothing it sent waits; write a side while something waits for it."""
        client, router = link.sockets()
        for end, inbound, outbound in ((client, link.up, link.down), (router, link.down, link.up)):
            mask = (selectors.EVENT_READ if inbound.pending is None and not inbound.ended else 0) | (
                selectors.EVENT_WRITE if outbound.pending is not None else 0
            )
            watched = end in self._selector.get_map()
            if not mask:
                if watched:
                    self._selector.unregister(end)
            elif watched:
                self._selector.modify(end, mask, link)
            else:
                self._selector.register(end, mask, link)

    def _close(self, link: _Link) -> None:
        if self._links.pop(link.name, None) is None:
            return
        for end in link.sockets():
            with contextlib.suppress(KeyError, ValueError):
                self._selector.unregister(end)
            end.close()
        self._accept_again()  # descriptors are free again
