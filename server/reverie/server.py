"""The dream server: one ROUTER socket, every request validated, jobs queued for the worker thread.

Only this thread touches the client socket. Dead clients are found by ROUTER_MANDATORY: every
half second each client with a job gets a heartbeat, and a send to a vanished peer fails at once
(its TCP connection closed, or ZeroMQ's own heartbeats timed it out), so its jobs are cancelled.
"""

from __future__ import annotations

import contextlib
import errno
import itertools
import json
import logging
import os
import socket
import time
from importlib import metadata
from typing import Any

import zmq

from reverie import __version__, keys, protocol
from reverie.config import ServerConfig
from reverie.engine import MODELS, PRESETS, DreamParams, get_spec
from reverie.errors import BadRequest, ReverieError, UnknownLayer, UnknownModel
from reverie.worker import Job, JobQueue, Worker

log = logging.getLogger("reverie.server")

HEARTBEAT_INTERVAL = protocol.HEARTBEAT_INTERVAL
# ZeroMQ-level heartbeats drop a half-open connection (a machine that vanished) within this.
ZMQ_HEARTBEAT_MS, ZMQ_HEARTBEAT_TIMEOUT_MS = 500, 1500
# On shutdown, how long the running job may take to reach its next cancellation check.
STOP_GRACE = 2.0
# How long replies may take to leave when the server closes.
CLOSE_LINGER_MS = 500
# Messages handled per wake-up before the worker's reports get a turn.
BATCH = 64


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


class DreamServer:
    """Serves one model; ``serve()`` runs until ``stop()`` (signal-safe) and returns an exit code."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.spec = get_spec(config.model)
        self.limits = config.limits
        self._context = zmq.Context()
        self._router = self._context.socket(zmq.ROUTER)
        self._authenticator = None
        self._link = self._context.socket(zmq.PAIR)
        # A socket pair, not a pipe: ZeroMQ's poller takes OS sockets on every platform, pipes only on POSIX.
        self._wake_read, self._wake_write = socket.socketpair()
        self._wake_write.setblocking(False)
        self._queue = JobQueue(config.limits.max_queue, config.limits.max_queue_bytes)
        self._jobs: dict[tuple[tuple[bytes, ...], str], Job] = {}
        self._serials: dict[int, Job] = {}
        self._next_serial = itertools.count(1)
        self._running: Job | None = None
        self._state = "loading"
        self._device: str | None = None
        self._backend: str | None = None  # Keras' backend, known once the worker has loaded the model
        self._started = time.monotonic()
        self._counts = {"done": 0, "cancelled": 0, "failed": 0}
        self._exit_code = 0
        self._worker: Worker | None = None

    # -- life cycle -----------------------------------------------------------------------------

    def bind(self) -> None:
        """Listen on the configured endpoint (refused beyond loopback without CURVE keys)."""
        router = self._router
        router.setsockopt(zmq.ROUTER_MANDATORY, 1)
        router.setsockopt(zmq.MAXMSGSIZE, self.limits.max_message_bytes)
        router.setsockopt(zmq.HEARTBEAT_IVL, ZMQ_HEARTBEAT_MS)
        router.setsockopt(zmq.HEARTBEAT_TIMEOUT, ZMQ_HEARTBEAT_TIMEOUT_MS)
        router.linger = CLOSE_LINGER_MS
        self._authenticator = keys.secure(router, self.config.endpoint, self.config.keys)
        try:
            router.bind(self.config.endpoint)
        except zmq.ZMQError as error:
            raise BadRequest(f"cannot listen on {self.config.endpoint}: {error}") from None
        address = f"inproc://reverie-worker-{id(self)}"
        self._link.bind(address)
        self._worker = Worker(self._context, address, self._queue, self.spec.name, self.config.weights)
        self._worker.start()
        log.info(
            "listening on %s (protocol %d, pid %d)",
            self.config.endpoint,
            protocol.PROTOCOL_VERSION,
            os.getpid(),
        )

    def stop(self) -> None:
        """Ask ``serve`` to finish; safe to call from a signal handler or another thread."""
        with contextlib.suppress(BlockingIOError):  # full: a wake-up is already pending
            self._wake_write.send(b"x")

    @property
    def worker_alive(self) -> bool:
        return self._worker is not None and self._worker.is_alive()

    def serve(self) -> int:
        """Answer requests until stopped; 0 after a clean stop, 1 if the model could not be loaded."""
        poller = zmq.Poller()
        poller.register(self._router, zmq.POLLIN)
        poller.register(self._link, zmq.POLLIN)
        poller.register(self._wake_read.fileno(), zmq.POLLIN)
        next_heartbeat = time.monotonic() + HEARTBEAT_INTERVAL
        while self._state != "stopping":
            ready = dict(poller.poll(max(0, int((next_heartbeat - time.monotonic()) * 1000))))
            if self._wake_read.fileno() in ready:
                self._wake_read.recv(64)
                self._state = "stopping"
                break
            if self._link in ready:
                self._drain(self._link, self._on_worker)
            if self._router in ready:
                self._drain(self._router, self._on_client)
            if time.monotonic() >= next_heartbeat:
                self._heartbeat()
                next_heartbeat = time.monotonic() + HEARTBEAT_INTERVAL
        self._shutdown()
        return self._exit_code

    def _drain(self, source: zmq.Socket, handle: Any) -> None:
        for _ in range(BATCH):
            try:
                frames = source.recv_multipart(zmq.NOBLOCK, copy=False)
            except zmq.Again:
                return
            handle(frames)
            if self._state == "stopping":
                return

    def _shutdown(self) -> None:
        """Answer every job ``cancelled`` (the running one once it stops, at most STOP_GRACE later)."""
        for job in self._jobs.values():
            job.cancel.set()  # also the one the worker may have taken but not yet reported
        for job in self._queue.close():
            self._finish(job, {"type": protocol.CANCELLED})
        running = self._running
        if running is not None:
            running.cancel.set()
            deadline = time.monotonic() + STOP_GRACE
            while self._running is running and self._link.poll(max(0, int((deadline - time.monotonic()) * 1000))):
                self._drain(self._link, self._on_worker)
            if self._running is running:
                log.warning(
                    "job %s did not reach a cancellation check in %.0f s; leaving it",
                    running.job_id,
                    STOP_GRACE,
                )
                self._finish(running, {"type": protocol.CANCELLED})
        for job in list(self._jobs.values()):
            self._finish(job, {"type": protocol.CANCELLED})
        self._router.close()
        self._link.close(linger=0)
        if self._authenticator is not None:
            self._authenticator.stop()
        self._wake_read.close()
        self._wake_write.close()
        log.info("stopped after %d jobs", self._counts["done"])

    def close_context(self) -> None:
        """End ZeroMQ once the worker has finished (the worker's socket belongs to this context)."""
        self._context.term()

    # -- sending --------------------------------------------------------------------------------

    def _send(self, envelope: tuple[bytes, ...], header: dict[str, Any], payload: Any = None) -> None:
        """Send to one client; if it is gone (ROUTER_MANDATORY says so at once), cancel its jobs."""
        frames = [*envelope, *protocol.encode(header, payload)]
        try:
            self._router.send_multipart(frames, zmq.NOBLOCK, copy=payload is None)
        except zmq.ZMQError as error:
            if error.errno == errno.EHOSTUNREACH:
                self._client_gone(envelope)
            elif error.errno == errno.EAGAIN:  # alive but not reading: its queue at ZeroMQ's high-water mark
                log.warning("client %s is not reading; dropped a %s message", envelope[-1].hex(), header["type"])
            else:
                raise

    def _client_gone(self, envelope: tuple[bytes, ...]) -> None:
        for job in [job for (owner, _), job in self._jobs.items() if owner == envelope]:
            log.info("client of job %s disconnected; cancelling it", job.job_id)
            self._cancel(job, notify=False)

    def _heartbeat(self) -> None:
        for envelope in {owner for owner, _ in self._jobs}:
            self._send(envelope, {"type": protocol.HEARTBEAT})

    # -- client requests ------------------------------------------------------------------------

    def _on_client(self, frames: list[zmq.Frame]) -> None:
        envelope, body = protocol.split(frames)
        route = tuple(frame.bytes for frame in envelope)
        if not route:
            return  # nothing to answer to: only possible from a misbehaving intermediary
        try:
            request = protocol.parse_request(body, self.limits)
            if request.type == protocol.HELLO:
                self._send(route, {"type": protocol.HELLO, "req": request.req, "server": self.facts()})
            elif request.type == protocol.DREAM:
                self._accept(route, request)
            else:
                self._cancel_request(route, request.job)
        except ReverieError as error:
            self._send(route, protocol.error(error.code, str(error), **protocol.reply_ids(body)))
        except Exception as error:
            log.exception("a request could not be read")
            self._send(
                route,
                protocol.error("bad_request", f"the request could not be read: {error!r}", **protocol.reply_ids(body)),
            )

    def _check_params(self, data: dict[str, Any]) -> DreamParams:
        params = DreamParams.from_dict(data)
        spec = get_spec(params.model)
        if spec.name != self.spec.name:
            raise UnknownModel(
                f"this server has {self.spec.name} loaded, not {spec.name}; choose {self.spec.name} "
                f"or start a server with --model {spec.name}"
            )
        spec.resolve_layers(params.preset, None if params.layers is None else dict(params.layers))
        for layer, _ in params.channels:
            if layer not in spec.dream_layers:
                raise UnknownLayer(f"channels name {layer!r}, which is not a layer of {spec.name}")
        return params

    def _accept(self, route: tuple[bytes, ...], request: protocol.Request) -> None:
        key = (route, request.job)
        if key in self._jobs:
            raise BadRequest(f"job {request.job} is already running; choose a new job id")
        params = self._check_params(request.params or {})
        job = Job(
            next(self._next_serial),
            route,
            request.job,
            params,
            request.image,
            request.pixels,
            guide=request.guide,
            guide_pixels=request.guide_pixels,
        )
        position = self._queue.put(job)
        self._jobs[key] = job
        self._serials[job.serial] = job
        log.info(
            "job %s queued (%dx%d %sx%d, %d before it)",
            job.job_id,
            job.image.width,
            job.image.height,
            job.image.dtype,
            job.image.channels,
            position,
        )
        self._send(route, {"type": protocol.ACCEPTED, "job": job.job_id, "position": position})

    def _cancel_request(self, route: tuple[bytes, ...], job_id: str) -> None:
        job = self._jobs.get((route, job_id))
        if job is None:
            raise protocol.UnknownJob(
                f"there is no job {job_id} on this server for this client; it has finished or never arrived"
            )
        self._cancel(job, notify=True)

    def _cancel(self, job: Job, *, notify: bool) -> None:
        """Stop a job: a queued one is answered now, a running one when the worker reaches its next step."""
        job.cancel.set()
        if self._queue.remove(job):
            self._finish(job, {"type": protocol.CANCELLED}, notify=notify)

    # -- worker reports -------------------------------------------------------------------------

    def _on_worker(self, frames: list[zmq.Frame]) -> None:
        header = json.loads(frames[0].bytes)
        kind = header["type"]
        if kind == "ready":
            self._state, self._device, self._backend = "ready", header["device"], header["backend"]
            return
        if kind == "failed":
            log.error("cannot serve: %s", header["message"])
            for job in list(self._jobs.values()):
                self._finish(job, protocol.error(header["code"], header["message"]))
            self._exit_code, self._state = 1, "stopping"
            return
        job = self._serials.get(header["serial"])
        if job is None:
            return
        if kind == "started":
            self._running = job
        elif kind == "progress":
            self._send(
                job.envelope,
                {
                    "type": protocol.PROGRESS,
                    "job": job.job_id,
                    **{k: header[k] for k in ("fraction", "octave", "octaves", "step", "steps", "tiles")},
                },
            )
        elif kind == "result":
            self._finish(
                job,
                {
                    "type": protocol.RESULT,
                    "image": job.image.to_dict(),
                    "seed": header["seed"],
                    "seconds": time.monotonic() - job.received,
                    "engine_seconds": header["engine_seconds"],
                    "notes": header["notes"],
                },
                frames[1],
            )
        elif kind == "cancelled":
            self._finish(job, {"type": protocol.CANCELLED})
        else:
            self._finish(job, protocol.error(header["code"], header["message"]))

    def _finish(self, job: Job, header: dict[str, Any], payload: Any = None, *, notify: bool = True) -> None:
        """Send a job's last message and forget it."""
        if self._jobs.pop((job.envelope, job.job_id), None) is None:
            return
        self._serials.pop(job.serial, None)
        if self._running is job:
            self._running = None
        outcome = {protocol.RESULT: "done", protocol.CANCELLED: "cancelled"}.get(header["type"], "failed")
        self._counts[outcome] += 1
        log.info("job %s %s after %.2f s", job.job_id, outcome, time.monotonic() - job.received)
        if notify:
            self._send(job.envelope, {**header, "job": job.job_id}, payload)

    # -- facts ----------------------------------------------------------------------------------

    def facts(self) -> dict[str, Any]:
        """What ``hello`` and ``reverie status`` report."""
        return {
            "name": "reverie",
            "version": __version__,
            "protocol": protocol.PROTOCOL_VERSION,
            "pid": os.getpid(),
            "state": self._state,
            "endpoint": self.config.endpoint,
            "encrypted": self._authenticator is not None,
            "tensorflow": _version("tensorflow"),
            "keras": _version("keras"),
            "backend": self._backend,
            "backend_version": None if self._backend is None else _version(self._backend),
            "device": self._device,
            "model": self.spec.name,
            "weights": self.config.weights,
            "models": {
                name: {
                    "description": spec.description,
                    "layers": list(spec.dream_layers),
                    "presets": {preset: dict(layers) for preset, layers in spec.presets.items()},
                }
                for name, spec in MODELS.items()
            },
            "presets": list(PRESETS),
            "defaults": DreamParams(model=self.spec.name).to_dict(),
            "limits": self.limits.to_dict(),
            "heartbeat_interval": HEARTBEAT_INTERVAL,
            "queue": len(self._queue),
            "running": self._running.job_id if self._running is not None else None,
            "uptime": time.monotonic() - self._started,
            "jobs_done": self._counts["done"],
            "jobs_cancelled": self._counts["cancelled"],
            "jobs_failed": self._counts["failed"],
        }
