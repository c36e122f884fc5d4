"""The dream server's client, shared by the GIMP plug-in and the command line.

pyzmq and the standard library only (GIMP's Python has no NumPy): pixels are plain bytes. Every
failure becomes one exception a person can act on: the server's refusals as the class of their wire code
(``errors.WIRE_ERRORS``), the client's own failures as ``ClientError``; all of them ``ReverieError``.
"""

from __future__ import annotations

import itertools
import logging
import random
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Union

import zmq
from zmq.utils.monitor import recv_monitor_message

from reverie_wire import protocol, snapshots
from reverie_wire.atlas import AtlasOrder
from reverie_wire.errors import (
    Busy,
    ClientError,
    ClientTimeout,
    ConnectionLost,
    DreamCancelled,
    ReverieError,
    ServerNotRunning,
    TooLarge,
    Unauthorized,
    UnknownJob,
    VersionMismatch,
)
from reverie_wire.images import Image, ImageSpec
from reverie_wire.protocol import Atlas, Cancel, Dream, Hello
from reverie_wire.replies import JOB_REPLIES, Accepted, Cancelled, Error, Progress, Result, Snapshot, Welcome

log = logging.getLogger(__name__)

__all__ = [
    "Cancelled",
    "DreamClient",
    "Event",
    "Guide",
    "Image",
    "Progress",
    "Queued",
    "Result",
    "Snapshot",
    "Strength",
]

# Below this size a copy is cheaper than ZeroMQ's zero-copy bookkeeping.
_ZERO_COPY_BYTES = 64 * 1024
# Assumed slowest link when waiting for ``accepted`` after sending a large image.
_MIN_BYTES_PER_SECOND = 10e6
# A job's server is gone after this many of its heartbeat intervals without a message: the limit follows the
# server's heartbeat, never the length of a gradient step or of a wait in the queue.
HEARTBEATS_MISSED = 10
# The heartbeat intervals a client believes, so that no server makes it hair-triggered or deaf.
_HEARTBEAT_INTERVALS = (0.05, 30.0)
# How long a probe waits to learn whether anything accepts a connection at the endpoint.
PROBE_SECONDS = 1.0
# A cancel that lands on another server behind a broker is answered unknown_job and sent again.
_CANCEL_TRIES = 8
# A job told ``busy`` is sent again after a wait that doubles from the first to the longest (each drawn between half
# and all of it, so that clients turned away together do not come back together), for at most BUSY_PATIENCE in all.
BUSY_FIRST_WAIT = 0.5
BUSY_LONGEST_WAIT = 8.0
BUSY_PATIENCE = 600.0
_HANDSHAKE_FAILED = (
    zmq.EVENT_HANDSHAKE_FAILED_AUTH | zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL | zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL
)
# Connection events tell a probe "something listens" from "nothing does" without waiting for an answer, and a
# dropped connection, then a new one, tell the jobs it carried that their messages may have been lost.
_MONITORED = (
    _HANDSHAKE_FAILED
    | zmq.EVENT_CONNECTED
    | zmq.EVENT_CONNECT_RETRIED
    | zmq.EVENT_DISCONNECTED
    | zmq.EVENT_HANDSHAKE_SUCCEEDED
)


# The images sent with a dream beside its own, by the names callers know them by.
Guide = Image
Strength = Image


@dataclass(frozen=True)
class Queued:
    """The server took the job behind others: ``ahead`` jobs run before it (the one running now included)."""

    job_id: str
    ahead: int


Event = Union[Queued, Progress, Snapshot, Result, Cancelled]  # noqa: UP007 - a runtime alias on Python 3.10 too
# Events that do not end their job.
_ONGOING = (Queued, Progress, Snapshot)
_Item = Union[Event, ReverieError]  # noqa: UP007


@dataclass
class _Job:
    """What this client knows of one of its jobs, from ``submit`` until its last event has been taken."""

    request: protocol.Request | None  # held until accepted, to be sent again if the connection drops before
    accepted: bool = False
    over: bool = False  # its last message came: nothing more is waited for or sent again for it
    cancels: int = 0  # cancels sent since the last ``cancel`` or ``stop`` (0: none asked for)
    keep: bool = False  # stopped with keep, so a cancel sent again keeps too
    items: deque[tuple[int, _Item]] = field(default_factory=deque)  # (arrival number, item), not yet taken


class DreamClient:
    """One connection to a dream server; not thread-safe (GIMP drives it from its main loop).

    ``timeout`` bounds the wait for the answer to a request (``hello``, a job's ``accepted``), ``retries``
    the hellos sent. A queued or running job has no such bound: it is alive while the server's messages
    keep coming, and gone after ``HEARTBEATS_MISSED`` of the heartbeat intervals its ``hello`` announced.

    ``server_public_key`` pins the server's CURVE key (z85); ``client_keys`` is this client's
    ``(public, secret)`` pair. Without ``client_keys`` a throwaway pair is used, which only a server
    that allows any key accepts.
    """

    def __init__(
        self,
        endpoint: str = protocol.DEFAULT_ENDPOINT,
        *,
        timeout: float = 5.0,
        retries: int = 3,
        server_public_key: bytes | None = None,
        client_keys: tuple[bytes, bytes] | None = None,
    ) -> None:
        if retries < 1:
            raise ClientError("retries must be at least 1")
        self.endpoint = endpoint
        self.timeout = timeout
        self.retries = retries
        self._server_key = server_public_key
        self._client_keys = client_keys
        self._context = zmq.Context()
        self._socket: zmq.Socket[bytes] | None = None
        self._monitor: zmq.Socket[bytes] | None = None
        self._info: dict[str, Any] | None = None
        self._jobs: dict[str, _Job] = {}
        self._arrivals = itertools.count()  # numbers the items, so ``poll`` hands them out in arrival order
        self._last_heard = time.monotonic()
        self._handshake_events: list[int] = []  # handshake failures the monitor reported, not yet raised
        self._dropped = False  # the connection dropped, and no new one has finished its handshake yet

    # -- connection ------------------------------------------------------------------------------

    def _connect(self) -> zmq.Socket[bytes]:
        if self._socket is None:
            socket = self._context.socket(zmq.DEALER)
            socket.linger = 0
            socket.setsockopt(zmq.HEARTBEAT_IVL, protocol.ZMQ_HEARTBEAT_MS)
            socket.setsockopt(zmq.HEARTBEAT_TIMEOUT, protocol.ZMQ_HEARTBEAT_TIMEOUT_MS)
            if self._server_key is not None:
                public, secret = self._client_keys or zmq.curve_keypair()
                socket.curve_serverkey = self._server_key
                socket.curve_publickey = public
                socket.curve_secretkey = secret
            self._monitor = socket.get_monitor_socket(_MONITORED)
            try:
                socket.connect(self.endpoint)
            except zmq.ZMQError as error:
                socket.close()
                raise ClientError(f"cannot use the endpoint {self.endpoint!r}: {error}") from None
            self._socket = socket
        return self._socket

    def _disconnect(self, linger_ms: int = 0) -> None:
        if self._socket is not None:
            self._socket.disable_monitor()
            self._socket.close(linger=linger_ms)
            self._socket = None
        self._handshake_events.clear()
        self._dropped = False
        if self._monitor is not None:
            self._monitor.close(linger=0)
            self._monitor = None

    def close(self) -> None:
        """Close the connection; jobs still running on the server are cancelled by it."""
        active = self._active()
        for job in active:
            self._send(Cancel(job))
        self._disconnect(linger_ms=500 if active else 0)
        self._jobs.clear()
        self._context.term()

    def __enter__(self) -> DreamClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _send(self, request: protocol.Request) -> None:
        try:
            frames = protocol.encode(request.encode(), *request.frames)
        except (TypeError, ValueError) as error:  # NaN, or something JSON cannot carry
            raise ClientError(f"the request cannot be sent as JSON: {error}") from None
        if len(frames[1]) > protocol.MAX_HEADER_BYTES:
            raise ClientError(
                f"the request's parameters take {len(frames[1])} bytes; the protocol allows {protocol.MAX_HEADER_BYTES}"
            )
        large = any(len(frame) >= _ZERO_COPY_BYTES for frame in request.frames)
        self._connect().send_multipart(frames, copy=not large)

    def _receive(self, timeout: float) -> tuple[dict[str, Any], bytes | None] | None:
        """The next message from the server, or None after ``timeout`` seconds of silence; a connection that
        drops meanwhile is dealt with (``_read_monitor``) and the wait goes on."""
        socket = self._connect()
        deadline = time.monotonic() + timeout
        poller = zmq.Poller()
        poller.register(socket, zmq.POLLIN)
        if self._monitor is not None:
            poller.register(self._monitor, zmq.POLLIN)
        while True:
            ready = dict(poller.poll(max(0, int((deadline - time.monotonic()) * 1000))))
            if socket in ready:  # first: what came before a drop (a job's last message) is read before the drop
                break
            if self._monitor in ready:
                self._read_monitor()
            if time.monotonic() >= deadline:
                return None
        frames = socket.recv_multipart()
        self._last_heard = time.monotonic()
        _, body = protocol.split(frames)
        if not body:
            raise ClientError("the server sent an empty message; is something else listening at this endpoint?")
        try:
            header = protocol.decode_header(body[0])
        except ReverieError as error:
            raise ClientError(f"the server sent an unreadable header ({error}); is it a Reverie server?") from None
        return header, body[1] if len(body) > 1 else None

    def _read_monitor(self) -> None:
        """Take the connection events waiting: handshake failures are kept for ``_handshake_failure``; a dropped
        connection ends the jobs the server had taken, and once a new one is up the others are sent again."""
        while self._monitor is not None and self._monitor.poll(0):
            event = recv_monitor_message(self._monitor)["event"]
            if event & _HANDSHAKE_FAILED:
                self._handshake_events.append(event)
            elif event == zmq.EVENT_DISCONNECTED:
                self._dropped = True
                self._lose_accepted_jobs()
            elif event == zmq.EVENT_HANDSHAKE_SUCCEEDED:
                self._handshake_events.clear()  # a handshake broken off before (a full server) is not the story
                if self._dropped:
                    self._dropped = False
                    self._send_unaccepted_again()

    def _lose_accepted_jobs(self) -> None:
        """The server cancels a job whose connection is gone: each one it had taken says so now, instead of
        after the silence limit."""
        for job, state in self._jobs.items():
            if state.over or state.request is not None:
                continue
            state.over = True
            lost = ConnectionLost(
                f"the connection to the dream server at {self.endpoint} dropped while job {job} was queued or "
                "running, and the server cancels a job whose client is gone; run it again",
                job,
            )
            state.items.append((next(self._arrivals), lost))

    def _send_unaccepted_again(self) -> None:
        """A request not yet accepted may have been lost with the old connection (or may still wait in ZeroMQ's
        queue, when it was never written): sent again, it is accepted once, as the server takes a job id the
        connection already has as the same request."""
        for job, state in self._jobs.items():
            if not state.over and state.request is not None:
                log.info("the connection to %s dropped before job %s was accepted; sent it again", self.endpoint, job)
                self._send(state.request)

    def _handshake_failure(self) -> ClientError | None:
        """An encryption/authentication failure the socket monitor saw, if any."""
        self._read_monitor()
        if self._handshake_events:
            event = self._handshake_events.pop(0)
            if event == zmq.EVENT_HANDSHAKE_FAILED_AUTH:
                return Unauthorized(
                    f"the dream server at {self.endpoint} refused this client's key; ask its administrator "
                    "to add your public key (reverie keys) to its authorized clients"
                )
            if self._server_key is not None:
                return Unauthorized(
                    f"the encrypted handshake with {self.endpoint} failed; check that the pinned server "
                    "public key is the one `reverie keys` printed on the server"
                )
            return Unauthorized(
                f"the dream server at {self.endpoint} requires encryption; pass its public key "
                "(server_public_key) and your own key pair"
            )
        return None

    # -- message bookkeeping ---------------------------------------------------------------------

    def _active(self) -> list[str]:
        """The jobs still waited for: submitted, and their last message not yet come."""
        return [job for job, state in self._jobs.items() if not state.over]

    def _dispatch(self, header: dict[str, Any], payload: bytes | None) -> None:
        """File one server message under its job; heartbeats and stale messages only mark the server alive."""
        kind, job = header.get("type"), header.get("job")
        if kind == protocol.HEARTBEAT or not isinstance(job, str):
            return
        state = self._jobs.get(job)
        if state is None or state.over:
            return
        if kind == protocol.ERROR and header.get("code") == UnknownJob.code and state.cancels:
            if state.cancels < _CANCEL_TRIES:
                state.cancels += 1
                self._send_cancel(job)
            return
        item = self._item(kind, header, payload, job)
        if isinstance(item, Accepted):  # again when the job moves up, or for the same request sent again
            state.accepted, state.request = True, None
            if item.ahead > 0:
                state.items.append((next(self._arrivals), Queued(job, item.ahead)))
            return
        if not isinstance(item, _ONGOING):
            state.over = True
        state.items.append((next(self._arrivals), item))

    @staticmethod
    def _item(kind: Any, header: dict[str, Any], payload: bytes | None, job: str) -> _Item | Accepted:
        """A job's message as its event (or error); a malformed one becomes a ClientError."""
        try:
            reply = JOB_REPLIES[kind].decode(header, payload)
        except (KeyError, TypeError) as error:
            return ClientError(f"the server sent a malformed {kind!r} message for job {job}: {error!r}")
        except ValueError as error:  # a result whose frame does not fill its declared layout
            return ClientError(
                f"{error}; nothing was used. Is the server the same Reverie release as this client?", job
            )
        return reply.exception() if isinstance(reply, Error) else reply

    def _send_cancel(self, job: str) -> None:
        """Ask the server to stop ``job``, keeping what has formed if it was stopped with ``stop``."""
        self._send(Cancel(job, self._jobs[job].keep))

    def _take(self, job: str | None) -> _Item | None:
        """The next item of ``job`` (of any job, the first to arrive, when None); a job over and taken is dropped."""
        waiting = [(state.items[0][0], name) for name, state in self._jobs.items() if state.items]
        if job is not None:
            waiting = [(number, name) for number, name in waiting if name == job]
        if not waiting:
            return None
        _, name = min(waiting)
        state = self._jobs[name]
        _, item = state.items.popleft()
        if state.over and not state.items:
            del self._jobs[name]
        return item

    @property
    def heartbeat_interval(self) -> float:
        """How often the server promised a sign of life per job (its ``hello``; the protocol's default before)."""
        announced = (self._info or {}).get("heartbeat_interval")
        if not isinstance(announced, (int, float)) or isinstance(announced, bool):
            return protocol.HEARTBEAT_INTERVAL
        shortest, longest = _HEARTBEAT_INTERVALS
        return min(max(float(announced), shortest), longest)

    @property
    def silence_limit(self) -> float:
        """Seconds without any message after which a server with one of our jobs counts as gone."""
        return HEARTBEATS_MISSED * self.heartbeat_interval

    def _check_alive(self) -> None:
        silence = time.monotonic() - self._last_heard
        if self._active() and silence > self.silence_limit:
            raise ClientTimeout(
                f"the dream server at {self.endpoint} has sent nothing for {silence:.1f} s while a job was queued "
                f"or running, though it sends a heartbeat every {self.heartbeat_interval:g} s; it may have crashed "
                "or been stopped (see `reverie status` and `reverie logs`)"
            )

    def _listening(self, within: float) -> bool:
        """Whether something accepts a connection at the endpoint, known within ``within`` seconds at most
        (a refused connection is known at once)."""
        self._connect()
        deadline = time.monotonic() + within
        while self._monitor is not None and self._monitor.poll(max(0, int((deadline - time.monotonic()) * 1000))):
            event = recv_monitor_message(self._monitor)["event"]
            if event == zmq.EVENT_CONNECTED:
                return True
            if event == zmq.EVENT_CONNECT_RETRIED:
                return False
        return False

    # -- public API ------------------------------------------------------------------------------

    def probe(self, within: float = PROBE_SECONDS) -> dict[str, Any] | None:
        """The server's facts, or None when nothing accepts a connection at the endpoint.

        Quick when nothing is there, yet patient with a server that is: once connected, ``hello`` gets
        the client's full ``timeout``, so a busy server is never mistaken for none.
        """
        if not self._listening(within):
            self._disconnect()
            return None
        return self.hello()

    def hello(self) -> dict[str, Any]:
        """The server's facts (versions, device, models, limits, queue); retried Lazy-Pirate style."""
        for _ in range(self.retries):
            req = uuid.uuid4().hex
            self._send(Hello(req))
            deadline = time.monotonic() + self.timeout
            while (message := self._receive(deadline - time.monotonic())) is not None:
                header, payload = message
                if header.get("req") == req or (header.get("type") == protocol.ERROR and "job" not in header):
                    return self._welcome(header)
                self._dispatch(header, payload)
            failure = self._handshake_failure()
            if failure is not None:
                raise failure
            if not self._active():  # a fresh socket drops a half-open connection; jobs keep the old one
                self._disconnect()
        raise ServerNotRunning(
            f"no Reverie dream server answered at {self.endpoint} ({self.retries} tries, {self.timeout:g} s "
            "each); start one with `reverie start` or check the endpoint"
        )

    def _welcome(self, header: dict[str, Any]) -> dict[str, Any]:
        if header.get("type") == protocol.ERROR:
            raise Error.decode(header).exception()
        if header.get("v") != protocol.PROTOCOL_VERSION:
            raise VersionMismatch(
                f"the dream server at {self.endpoint} speaks protocol {header.get('v')!r}, this client "
                f"{protocol.PROTOCOL_VERSION}; update the older of the GIMP plug-in and the server"
            )
        try:
            self._info = Welcome.decode(header).server
        except ValueError:
            raise ClientError(f"the server at {self.endpoint} answered hello without its facts") from None
        return self._info

    def _checked(self, image: Image, what: str) -> ImageSpec:
        """The layout of an image to send, checked against the server's limits before anything is sent."""
        limits = (self._info or self.hello())["limits"]
        try:
            spec = protocol.image_spec(
                image.layout(), protocol.Limits(max_pixels=int(limits["max_pixels"]), max_side=int(limits["max_side"]))
            )
            protocol.check_buffer(spec, image.pixels)
        except TooLarge as error:
            raise TooLarge(f"{what}: {error}" if what != "image" else str(error)) from None
        except ReverieError as error:
            raise ClientError(str(error)) from None
        if spec.nbytes > int(limits["max_message_bytes"]):
            raise TooLarge(
                f"the {what} is {spec.nbytes / 1e6:.0f} MB; this server takes messages of at most "
                f"{int(limits['max_message_bytes']) / 1e6:.0f} MB"
            )
        return spec

    def submit(
        self,
        pixels: bytes,
        *,
        width: int,
        height: int,
        channels: int,
        dtype: str,
        params: dict[str, Any],
        snapshots: snapshots.SnapshotRequest | None = None,
        **extras: Image | None,
    ) -> str:
        """Send one job and return its id once the server has accepted (queued) it; with ``snapshots``, its
        events include Snapshot images of the dream as it forms. ``extras`` are its optional extra images by the
        names of ``protocol.EXTRA_FRAMES``: a ``guide`` grows its motifs, a ``strength`` map (grey, any size:
        each pixel's share of every gradient step, 0 none, the sample type's full scale all) says where it dreams,
        a ``previous_source`` and ``previous_dream`` (a clip's previous frame and its dream, each the image's size)
        start it from that dream carried along the motion between the two frames."""
        unknown = set(extras) - set(protocol.EXTRA_FRAMES)
        if unknown:
            raise TypeError(f"submit() takes the extra images {', '.join(protocol.EXTRA_FRAMES)}, not {unknown}")
        image = Image(pixels, width, height, channels, dtype)
        spec = self._checked(image, "image")
        sent = {name: extra for name, extra in extras.items() if extra is not None}
        for name, extra in sent.items():
            self._checked(extra, name)
            if name in protocol.GREY_FRAMES and extra.channels != 1:
                raise ClientError(f"a {name} map is grey (one channel), got {extra.channels} channels")
        request = Dream(uuid.uuid4().hex, params, image, snapshots, sent)
        return self._accepted(request, self.timeout + spec.nbytes / _MIN_BYTES_PER_SECOND)

    def submit_atlas(self, order: AtlasOrder) -> str:
        """Ask for a sheet of what ``order``'s channels of the served model dream of; its events are a dream's
        (progress as the fraction of the rendering done), its Result the sheet (u8 RGB) with ``atlas`` set."""
        return self._accepted(Atlas(uuid.uuid4().hex, order), self.timeout)

    def _accepted(self, request: Dream | Atlas, seconds: float) -> str:
        """Send a job and wait up to ``seconds`` for the server to accept (queue) it; its refusal is raised."""
        self._send(request)
        job = request.job
        state = self._jobs[job] = _Job(request)
        deadline = time.monotonic() + seconds
        while not state.accepted:
            failure = self._take(job)
            if failure is not None:
                raise failure if isinstance(failure, ReverieError) else ClientError(f"job {job} ended early")
            message = self._receive(deadline - time.monotonic())
            if message is None:
                self.cancel(job)
                del self._jobs[job]
                raise ClientTimeout(f"the dream server at {self.endpoint} did not accept the job in time")
            self._dispatch(*message)
        return job

    def submit_waiting(
        self,
        pixels: bytes,
        *,
        on_busy: Callable[[Busy, float], None],
        patience: float = BUSY_PATIENCE,
        **job: Any,
    ) -> str:
        """``submit``, waiting for a place in line: a server that answers ``busy`` (its queue full, or this client's
        share taken) is asked again with backoff for up to ``patience`` seconds, and ``on_busy(error, seconds)``
        hears each wait, so a person sees why nothing happens yet. Other jobs' messages are read meanwhile."""
        give_up = time.monotonic() + patience
        wait = BUSY_FIRST_WAIT
        while True:
            try:
                return self.submit(pixels, **job)
            except Busy as error:
                pause = min(random.uniform(wait / 2, wait), give_up - time.monotonic())
                if pause <= 0:
                    raise
                on_busy(error, pause)
                until = time.monotonic() + pause
                while (message := self._receive(until - time.monotonic())) is not None:
                    self._dispatch(*message)
                    if time.monotonic() >= until:
                        break
                wait = min(wait * 2, BUSY_LONGEST_WAIT)

    def poll(self, timeout: float = 0.0) -> Event | None:
        """The next event of any of this client's jobs, or None if none came within ``timeout`` seconds.

        Raises the job's error (with ``job_id``) when one fails, and ClientTimeout when the server
        has been silent for longer than ``silence_limit`` while a job is active.
        """
        deadline = time.monotonic() + timeout
        while True:
            item = self._take(None)
            if item is not None:
                if isinstance(item, ReverieError):
                    raise item
                return item
            message = self._receive(max(0.0, deadline - time.monotonic()))
            if message is None:
                self._check_alive()
                return None
            self._dispatch(*message)

    def events(self, job_id: str, timeout: float | None = None) -> Iterator[Event]:
        """Queued (when the job waits behind others) and progress events, then the Result or Cancelled; raises the
        job's error.

        ``timeout`` bounds the whole job (None: no bound); a server silent for longer than
        ``silence_limit`` raises ClientTimeout either way.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            item = self._take(job_id)
            if item is not None:
                if isinstance(item, ReverieError):
                    raise item
                yield item
                if not isinstance(item, _ONGOING):
                    return
                continue
            if job_id not in self._active():
                raise ClientError(f"job {job_id} is not running on this client")
            limit = self.silence_limit
            wait = limit if deadline is None else min(limit, deadline - time.monotonic())
            if wait <= 0:
                raise ClientTimeout(f"job {job_id} took longer than {timeout:g} s")
            message = self._receive(wait)
            if message is None:
                self._check_alive()
                continue
            self._dispatch(*message)

    def run(
        self,
        pixels: bytes,
        *,
        width: int,
        height: int,
        channels: int,
        dtype: str,
        params: dict[str, Any],
        on_progress: Callable[[Progress], None] | None = None,
        on_queued: Callable[[Queued], None] | None = None,
        on_busy: Callable[[Busy, float], None] | None = None,
        **extras: Image | None,
    ) -> Result:
        """Submit a job and wait for its result; raises DreamCancelled if it was cancelled. ``on_queued`` hears
        when the job waits behind others, ``on_progress`` each step; with ``on_busy`` a busy server is asked again
        (``submit_waiting``) rather than the job failing; ``extras`` are ``submit``'s."""
        job_args: dict[str, Any] = {"width": width, "height": height, "channels": channels, "dtype": dtype}
        job_args.update(params=params, **extras)
        job = (
            self.submit(pixels, **job_args)
            if on_busy is None
            else self.submit_waiting(pixels, on_busy=on_busy, **job_args)
        )
        try:
            for event in self.events(job):
                if isinstance(event, Result):
                    return event
                if isinstance(event, Cancelled):
                    raise DreamCancelled(f"job {job} was cancelled")
                if on_progress is not None and isinstance(event, Progress):
                    on_progress(event)
                if on_queued is not None and isinstance(event, Queued):
                    on_queued(event)
        except KeyboardInterrupt:
            self.cancel(job)
            raise
        raise ClientError(f"job {job} ended without a result")

    def cancel(self, job_id: str) -> None:
        """Ask the server to stop a job; its Cancelled (or Result, if it was done) still arrives."""
        self._ask_to_stop(job_id, keep=False)

    def stop(self, job_id: str) -> None:
        """Stop a job and keep what has formed: a running job's Result then comes with ``partial`` set (a job
        still queued is answered Cancelled)."""
        self._ask_to_stop(job_id, keep=True)

    def _ask_to_stop(self, job_id: str, keep: bool) -> None:
        """Send a cancel; the latest of ``cancel`` and ``stop`` says whether a cancel sent again keeps."""
        state = self._jobs.get(job_id)
        if state is not None and not state.over:
            state.cancels, state.keep = 1, keep
            self._send_cancel(job_id)
