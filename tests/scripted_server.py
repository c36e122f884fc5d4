"""A scripted dream server for client tests: a ZeroMQ ROUTER in a thread that answers each request as told."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable

import zmq

from reverie_wire import protocol

Reply = Iterable[tuple[dict, bytes | None]]
Handler = Callable[[dict, list[bytes]], Reply]


class ScriptedServer:
    """A ROUTER in a thread that answers each request with what ``handler`` returns."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.received: list[dict] = []
        self._arrived = threading.Condition()
        self._context = zmq.Context()
        self._socket = self._context.socket(zmq.ROUTER)
        self._socket.linger = 0
        port = self._socket.bind_to_random_port("tcp://127.0.0.1")
        self.endpoint = f"tcp://127.0.0.1:{port}"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            if not self._socket.poll(20):
                continue
            frames = self._socket.recv_multipart()
            envelope, body = protocol.split(frames)
            header = json.loads(body[0])
            with self._arrived:
                self.received.append(header)
                self._arrived.notify_all()
            for reply, payload in self.handler(header, body[1:]):
                frames = [*envelope, b"", json.dumps({"v": 1, **reply}).encode()]
                self._socket.send_multipart(frames + ([payload] if payload is not None else []))

    def wait_for(self, predicate: Callable[[list[dict]], bool], timeout: float = 5.0) -> bool:
        """Whether the requests received satisfy ``predicate`` within ``timeout`` seconds."""
        with self._arrived:
            return self._arrived.wait_for(lambda: predicate(self.received), timeout)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self._socket.close()
        self._context.term()
