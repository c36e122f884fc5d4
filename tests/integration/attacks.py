"""Hostile peers for the hardening tests and the attack benchmark: raw ZMTP senders that a pyzmq socket cannot
imitate (a message left unfinished), and a reader of a process's memory peak."""

from __future__ import annotations

import contextlib
import json
import socket
import struct
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

MB = 1 << 20
# What one connection sending an unfinished message can grow a server taking at most 1,000,000 pixels (frames of
# 16 MB) by: its allowance (two such frames) and what arrives over loopback before the guard's next check, which
# under load comes late (docs/hardening.md).
ONE_CONNECTION_BOUND = 96 * MB

# A ZMTP 3.0 greeting for the NULL mechanism, as a client (RFC 23).
_GREETING = b"\xff" + bytes(8) + b"\x7f" + b"\x03\x00" + b"NULL".ljust(20, b"\x00") + b"\x00" + bytes(31)


def memory(pid: int) -> dict[str, int]:
    """A process's resident memory now (VmRSS) and at its peak (VmHWM), in bytes."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0]) * 1024
    return fields


def reset_peak(pid: int) -> None:
    """Start a process's VmHWM again from its resident memory now (Linux: ``clear_refs``)."""
    Path(f"/proc/{pid}/clear_refs").write_text("5\n")


def header(**fields: object) -> bytes:
    return json.dumps({"v": 1, **fields}).encode()


def _frame(body: bytes, more: bool) -> bytes:
    flags = 0x01 if more else 0
    if len(body) > 255:
        return bytes([flags | 0x02]) + struct.pack(">Q", len(body)) + body
    return bytes([flags, len(body)]) + body


def _command(name: bytes, body: bytes) -> bytes:
    payload = bytes([len(name)]) + name + body
    return bytes([0x04, len(payload)]) + payload


class RawPeer:
    """A DEALER spoken by hand over TCP or ``ipc://``, so it can send what libzmq never would: frames of a message
    that never ends, or frames trickled at its own pace."""

    def __init__(self, endpoint: str, identity: bytes | None = None, receive_buffer: int | None = None) -> None:
        ipc = endpoint.startswith("ipc://")
        self.sock = socket.socket(socket.AF_UNIX) if ipc else socket.socket()
        if receive_buffer is not None:  # before connecting, so the window is small from the start
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        self.sock.settimeout(10)
        if ipc:
            self.sock.connect(endpoint.removeprefix("ipc://"))
        else:
            parts = urlsplit(endpoint.replace("tcp://", "//", 1))
            self.sock.connect((parts.hostname, parts.port))
        self.sock.sendall(_GREETING)
        properties = b"\x0bSocket-Type" + struct.pack(">I", 6) + b"DEALER"
        if identity is not None:
            properties += b"\x08Identity" + struct.pack(">I", len(identity)) + identity
        self.sock.sendall(_command(b"READY", properties))
        # libzmq drops a peer whose frames arrive before its own handshake is done: wait for its READY.
        self._receive_exactly(64)
        _, size = self._receive_exactly(2)  # READY is a short command
        self._receive_exactly(size)

    def _receive_exactly(self, count: int) -> bytes:
        data = b""
        while len(data) < count:
            chunk = self.sock.recv(count - len(data))
            if not chunk:
                raise ConnectionError("the server closed the connection during the handshake")
            data += chunk
        return data

    def ping(self) -> None:
        """A ZMTP heartbeat: the server's ZeroMQ then knows the peer is alive even if it reads nothing."""
        self.sock.sendall(_command(b"PING", b"\x00\x00"))

    def send_frame(self, body: bytes, more: bool = True) -> None:
        """One frame; with ``more`` the message goes on."""
        self.sock.sendall(_frame(body, more))

    def receive_message(self) -> list[bytes]:
        """The next message's frames, commands (the server's heartbeats) skipped."""
        frames: list[bytes] = []
        while True:
            flags = self._receive_exactly(1)[0]
            size_bytes = 8 if flags & 0x02 else 1
            body = self._receive_exactly(int.from_bytes(self._receive_exactly(size_bytes), "big"))
            if flags & 0x04:
                continue
            frames.append(body)
            if not flags & 0x01:
                return frames

    def send_big_frame(self, size: int, more: bool = True, chunk: int = 1 << 22) -> bool:
        """A frame of ``size`` zero bytes, written in chunks; False once the server has cut the connection."""
        try:
            self.sock.sendall(bytes([(0x01 if more else 0) | 0x02]) + struct.pack(">Q", size))
            zeros = bytes(chunk)
            left = size
            while left:
                sent = self.sock.send(zeros[: min(left, chunk)])
                left -= sent
        except OSError:
            return False
        return True

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


@contextlib.contextmanager
def raw_peer(endpoint: str, identity: bytes | None = None, receive_buffer: int | None = None) -> Iterator[RawPeer]:
    peer = RawPeer(endpoint, identity, receive_buffer)
    try:
        yield peer
    finally:
        peer.close()


def unfinished_message(endpoint: str, frame_bytes: int, frames: int) -> int:
    """Send ``frames`` frames of ``frame_bytes`` as one message that never ends; how many went before the server
    cut the connection. The connection is left open until the frames are all sent or refused."""
    with raw_peer(endpoint) as peer:
        peer.send_frame(b"")
        peer.send_frame(header(type="hello", req="h"))
        for number in range(frames):
            if not peer.send_big_frame(frame_bytes):
                return number
        return frames


class _Relayed:
    """One connection through a ``ZmtpProxy``: what passed each way, and whether the server closed it."""

    def __init__(self, client: socket.socket, server: socket.socket) -> None:
        self.client, self.server = client, server
        self.large_bytes = 0  # of frames of 64 KiB and more forwarded to the server
        self.dropped = 0  # such frames not forwarded
        self.closed_by_server = threading.Event()


class ZmtpProxy:
    """A loopback TCP relay in front of a server that follows ZMTP's framing (CURVE's encrypted frames too), so a
    libzmq client can be made into a hostile one: frames of 64 KiB and more pass only until ``large_limit`` bytes of
    them have (the rest are dropped, so the server holds a message that never ends while the client's heartbeats
    still pass), and with ``reading`` cleared nothing is read from the server (a client that does not read)."""

    HEADER_END = 64  # a ZMTP 3 greeting
    LARGE = 64 * 1024

    def __init__(self, endpoint: str, large_limit: int | None = None) -> None:
        parts = urlsplit(endpoint.replace("tcp://", "//", 1))
        self.target = (parts.hostname, parts.port)
        self.large_limit = large_limit
        self.reading = threading.Event()
        self.reading.set()
        self.links: list[_Relayed] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.endpoint = f"tcp://127.0.0.1:{self._listener.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                client, _ = self._listener.accept()
                server = socket.socket()
                server.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * 1024)  # so unread bytes stay with it
                server.connect(self.target)
                link = _Relayed(client, server)
                self.links.append(link)
                threading.Thread(target=self._up, args=(link,), daemon=True).start()
                threading.Thread(target=self._down, args=(link,), daemon=True).start()

    def _exactly(self, sock: socket.socket, count: int) -> bytes:
        data = bytearray()
        while len(data) < count:
            chunk = sock.recv(min(count - len(data), 1 << 20))
            if not chunk:
                raise ConnectionError("closed")
            data += chunk
        return bytes(data)

    def _up(self, link: _Relayed) -> None:
        with contextlib.suppress(OSError, ConnectionError):
            for _ in range(self.HEADER_END):  # byte by byte: libzmq sends its greeting's rest only once answered
                link.server.sendall(self._exactly(link.client, 1))
            while True:
                flags = self._exactly(link.client, 1)
                size_bytes = self._exactly(link.client, 8 if flags[0] & 0x02 else 1)
                size = int.from_bytes(size_bytes, "big")
                large = size >= self.LARGE
                passes = not large or self.large_limit is None or link.large_bytes < self.large_limit
                if passes:
                    link.server.sendall(flags + size_bytes)
                left = size
                while left:
                    chunk = link.client.recv(min(left, 1 << 20))
                    if not chunk:
                        raise ConnectionError("closed")
                    left -= len(chunk)
                    if passes:
                        link.server.sendall(chunk)
                if large and passes:
                    link.large_bytes += size
                elif large:
                    link.dropped += 1

    def _down(self, link: _Relayed) -> None:
        with contextlib.suppress(OSError):
            while True:
                self.reading.wait()
                chunk = link.server.recv(1 << 16)
                if not chunk:
                    break
                link.client.sendall(chunk)
        link.closed_by_server.set()
        link.client.close()

    def close(self) -> None:
        self._listener.close()
        for link in self.links:
            for end in (link.client, link.server):
                with contextlib.suppress(OSError):
                    end.close()
