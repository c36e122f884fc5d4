"""What the worker tells the server's thread: one dataclass per event, in the order they happened.

The events themselves pass through a queue (pixels are handed over, not copied or encoded); each is followed by an
empty message on an inproc PAIR socket, which wakes the server's poller. ZeroMQ sockets must not be shared between
threads, so each end has its own socket.
"""

from __future__ import annotations

import queue
from dataclasses import dataclass
from typing import Any

import zmq

from reverie_wire.atlas import Sheet


@dataclass(frozen=True)
class Phase:
    """What loading now waits for; ``download`` is ``{"path", "bytes"}`` while the weights download."""

    phase: str
    download: dict[str, Any] | None = None


@dataclass(frozen=True)
class Ready:
    """The model is loaded and warm."""

    device: str
    backend: str


@dataclass(frozen=True)
class LoadFailed:
    """The model cannot be loaded: the server answers every job with this error and exits."""

    code: str
    message: str


@dataclass(frozen=True)
class Started:
    serial: int


@dataclass(frozen=True)
class Stepped:
    """A job's progress, at most about ten a second."""

    serial: int
    fraction: float
    octave: int
    octaves: int
    step: int
    steps: int
    tiles: int
    seconds_left: float | None = None  # the engine's estimate, once a step has been timed


@dataclass(frozen=True)
class Snapshot:
    """A picture of the dream so far (``fields`` as ``reverie_wire.replies.Snapshot`` takes them), u8 RGB pixels."""

    serial: int
    fields: dict[str, Any]
    pixels: Any


@dataclass(frozen=True)
class Dreamed:
    """A job's result; ``partial`` says how far a job stopped with keep got, None for a whole dream."""

    serial: int
    seed: int
    partial: dict[str, Any] | None
    engine_seconds: float
    notes: list[str]
    pixels: Any
    atlas: Sheet | None = None  # an atlas request's: where each channel's tile lies on the sheet


@dataclass(frozen=True)
class Cancelled:
    serial: int


@dataclass(frozen=True)
class Failed:
    """A job ended with an error (``code`` as the protocol names it)."""

    serial: int
    code: str
    message: str


Event = Phase | Ready | LoadFailed | Started | Stepped | Snapshot | Dreamed | Cancelled | Failed


def payload(pixels: Any) -> memoryview:
    """Pixels as the bytes a frame carries, without copying (``len`` is their size in bytes)."""
    return memoryview(pixels).cast("B")


class EventLink:
    """The way from the worker's thread to the server's: ``sender`` in the worker's thread, ``receive`` in the
    server's, which polls ``socket``."""

    def __init__(self, context: zmq.Context, address: str) -> None:
        self._context = context
        self._address = address
        self._events: queue.SimpleQueue[Event] = queue.SimpleQueue()
        self.socket = context.socket(zmq.PAIR)
        self.socket.bind(address)

    def sender(self) -> EventSender:
        """The worker's end; made in the worker's thread, which alone uses it."""
        wake = self._context.socket(zmq.PAIR)
        wake.linger = 0
        wake.connect(self._address)
        return EventSender(self._events, wake)

    def receive(self) -> Event | None:
        """The next event, or None when none is waiting."""
        try:
            self.socket.recv(zmq.NOBLOCK)
        except zmq.Again:
            return None
        return self._events.get_nowait()

    def wait(self, timeout: float) -> bool:
        """Whether an event came within ``timeout`` seconds."""
        return bool(self.socket.poll(max(0, int(timeout * 1000))))

    def close(self) -> None:
        self.socket.close(linger=0)


class EventSender:
    """The worker's end of an ``EventLink``."""

    def __init__(self, events: queue.SimpleQueue[Event], wake: zmq.Socket) -> None:
        self._events = events
        self._wake = wake

    def send(self, event: Event) -> None:
        self._events.put(event)  # before the wake-up, so the server finds it when it wakes
        self._wake.send(b"")

    def close(self) -> None:
        self._wake.close()
