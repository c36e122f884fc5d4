"""The dream server: one ROUTER socket, every request validated, jobs queued for the worker thread.

Only this thread touches the client socket. Dead clients are found by ROUTER_MANDATORY: every
half second each client with a job gets a heartbeat, and a send to a vanished peer fails at once
(its TCP connection closed, or ZeroMQ's own heartbeats timed it out), so its jobs are cancelled.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import os
import socket
import time
from importlib import metadata
from typing import Any

import zmq
from zmq.auth.thread import ThreadAuthenticator

from reverie import __version__, keys, peers
from reverie.config import ServerConfig
from reverie.engine import MODELS, PRESETS, DreamParams, get_spec
from reverie.fairness import check_share, check_work, over_time_message
from reverie.inflow import InflowGuard
from reverie.outbox import GONE, Outbox
from reverie.ratelog import PeerLog
from reverie.worker import Job, JobQueue, Worker
from reverie_wire import protocol, snapshots
from reverie_wire.errors import BadRequest, ConfigError, ReverieError, UnknownJob, UnknownLayer, UnknownModel

log = logging.getLogger("reverie.server")

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
        # What a job does not name: advertised by hello and applied to every job.
        self._defaults = DreamParams(model=self.spec.name).to_dict()
        self.limits = config.limits
        self._context = zmq.Context()
        peers.seed_routing_ids()  # before the ROUTER draws the first routing id it will hand out
        self._router = self._context.socket(zmq.ROUTER)
        self._authenticator: ThreadAuthenticator | None = None
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
        self._phase: str | None = "starting"  # what loading waits for; None once ready
        self._download: dict[str, Any] | None = None  # {"path", "bytes"} while the weights download
        self._last_activity = time.monotonic()  # for idle_exit
        self._device: str | None = None
        self._backend: str | None = None  # Keras' backend, known once the worker has loaded the model
        self._started = time.monotonic()
        self._counts = {"done": 0, "cancelled": 0, "failed": 0}
        self._exit_code = 0
        self._worker: Worker | None = None
        self._inflow: InflowGuard | None = None
        self._outbox: Outbox | None = None
        self._peer_log = PeerLog(log)  # every line a client's request causes goes through it
        self._over_time: set[Job] = set()  # running jobs stopped for their time limit
        # Each client's connection: what it is owed goes there and nowhere else, whatever routing id it had.
        self._owners: dict[tuple[bytes, ...], peers.Connection | None] = {}
        self._running_since = 0.0

    # -- life cycle -----------------------------------------------------------------------------

    def bind(self) -> None:
        """Listen on the configured endpoint (refused beyond loopback without CURVE keys)."""
        router = self._router
        router.setsockopt(zmq.ROUTER_MANDATORY, 1)
        router.setsockopt(zmq.ROUTER_HANDOVER, 0)  # a routing id in use is never taken over by a new connection
        router.setsockopt(zmq.MAXMSGSIZE, self.limits.max_message_bytes)
        router.setsockopt(zmq.HEARTBEAT_IVL, protocol.ZMQ_HEARTBEAT_MS)
        router.setsockopt(zmq.HEARTBEAT_TIMEOUT, protocol.ZMQ_HEARTBEAT_TIMEOUT_MS)
        router.linger = CLOSE_LINGER_MS
        self._authenticator = keys.secure(router, self.config.endpoint, self.config.keys)
        self._inflow = InflowGuard(
            router, self.limits.max_inflight_bytes, self.limits.max_connections, self._authenticator is not None
        )
        peers.refuse_taken_ipc(self.config.endpoint)
        try:
            router.bind(self.config.endpoint)
        except zmq.ZMQError as error:
            raise ConfigError(f"cannot listen on {self.config.endpoint}: {error}") from None
        self._inflow.start()
        self._outbox = Outbox(
            router,
            self._inflow.acknowledged,
            self.limits.max_unread_bytes,
            self.limits.unread_seconds,
            self._peer_log,
            self._still_here,
        )
        address = f"inproc://reverie-worker-{id(self)}"
        self._link.bind(address)
        self._worker = Worker(
            self._context,
            address,
            self._queue,
            self.spec.name,
            self.config.weights,
            self.limits.max_compiled,
            self.config.warm_up,
        )
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
        next_heartbeat = time.monotonic() + protocol.HEARTBEAT_INTERVAL
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
                next_heartbeat = time.monotonic() + protocol.HEARTBEAT_INTERVAL
            if self._idle_too_long():
                log.info("no requests for %.0f s: exiting to free memory ([server] idle_exit)", self.config.idle_exit)
                break
        self._shutdown()
        return self._exit_code

    def _idle_too_long(self) -> bool:
        """Whether a ready server with no jobs has heard no request for ``idle_exit``."""
        idle_exit = self.config.idle_exit
        return (
            idle_exit is not None
            and self._state == "ready"
            and not self._jobs
            and time.monotonic() - self._last_activity >= idle_exit
        )

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
        if self._inflow is not None and self._inflow.is_alive():
            self._inflow.stop()
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
        """Send to one client through the outbox (a job's last message is never dropped); if the client is gone
        (ROUTER_MANDATORY says so at once), cancel its jobs."""
        if self._outbox is not None and self._outbox.send(envelope, header, payload) == GONE:
            self._client_gone(envelope)

    def _still_here(self, envelope: tuple[bytes, ...]) -> bool:
        """Whether the connection that sent this client's requests is still open (not one that took its id)."""
        return envelope in self._owners and peers.still_open(self._owners[envelope])

    def _owned(self, job: Job) -> bool:
        """Whether the connection that submitted a job is still the one its client's id leads to."""
        return self._owners.get(job.envelope) == job.connection and self._still_here(job.envelope)

    def _owes(self, envelope: tuple[bytes, ...]) -> bool:
        """Whether this client has jobs here or messages waiting for it."""
        waiting = self._outbox is not None and self._outbox.waiting_for(envelope)
        return waiting or bool(self._jobs_of(envelope))

    def _jobs_of(self, envelope: tuple[bytes, ...]) -> list[Job]:
        """This client's jobs, queued or running."""
        return [job for (owner, _), job in self._jobs.items() if owner == envelope]

    def _client_gone(self, envelope: tuple[bytes, ...]) -> None:
        self._owners.pop(envelope, None)
        if self._outbox is not None:
            self._outbox.forget(envelope)
        for job in self._jobs_of(envelope):
            self._peer_log.log(envelope, logging.INFO, "client of job %s disconnected; cancelling it", job.job_id)
            self._cancel(job, notify=False)

    def _heartbeat(self) -> None:
        for envelope in list(self._owners):
            if not self._still_here(envelope):
                self._client_gone(envelope)
            elif not self._owes(envelope):
                del self._owners[envelope]  # owed nothing: forgotten, so the table stays as small as the work
        for envelope in {job.envelope for job in self._jobs.values() if self._owned(job)}:
            self._send(envelope, {"type": protocol.HEARTBEAT})
        running = self._running
        if running is not None and time.monotonic() - self._running_since > self.limits.max_job_seconds:
            self._over_time.add(running)
            running.cancel.set()
        if self._outbox is not None:
            for envelope in self._outbox.flush():  # clients that read nothing for too long: their jobs stop
                for job in self._jobs_of(envelope):
                    self._cancel(job, notify=True)

    # -- client requests ------------------------------------------------------------------------

    def _on_client(self, frames: list[zmq.Frame]) -> None:
        if self._inflow is not None:
            self._inflow.taken(frames)
        envelope, body = protocol.split(frames)
        route = tuple(frame.bytes for frame in envelope)
        if not route:
            return  # nothing to answer to: only possible from a misbehaving intermediary
        self._last_activity = time.monotonic()
        connection = peers.connection_of(frames[-1])
        if self._owners.get(route, connection) != connection:  # the id's first connection is gone: not its owner
            self._client_gone(route)
        self._owners[route] = connection
        try:
            request = protocol.parse_request(body, self.limits)
            if request.type == protocol.HELLO:
                self._send(route, {"type": protocol.HELLO, "req": request.req, "server": self.facts()})
            elif request.type == protocol.DREAM:
                self._accept(route, request)
            else:
                self._cancel_request(route, request.job, keep=request.keep)
        except ReverieError as error:
            self._send(route, protocol.error(error.code, str(error), **protocol.reply_ids(body)))
        except Exception as error:
            self._peer_log.log(route, logging.ERROR, "a request could not be read", exc_info=True)
            self._send(
                route,
                protocol.error("bad_request", f"the request could not be read: {error!r}", **protocol.reply_ids(body)),
            )

    def _check_params(self, data: dict[str, Any]) -> DreamParams:
        """The job's params: what it names over the defaults ``hello`` advertises (the one rule for both)."""
        params = DreamParams.from_dict({**self._defaults, **data})
        spec = get_spec(params.model)
        if spec.name != self.spec.name:
            raise UnknownModel(
                f"this server has {self.spec.name} loaded, not {spec.name}; choose {self.spec.name} "
                f"or start a server with --model {spec.name}"
            )
        params.layer_weights()  # an unknown layer or preset is refused before the job queues
        for layer, _ in params.channels:
            if layer not in spec.dream_layers:
                raise UnknownLayer(f"channels name {layer!r}, which is not a layer of {spec.name}")
        if params.tile_size > self.limits.max_tile_size:  # a ceiling, as the engine treats it: never refused
            tile = self.limits.max_tile_size
            params = params.replace(tile_size=tile, tile_overlap=min(params.tile_overlap, tile // 4))
        return params

    def _accept(self, route: tuple[bytes, ...], request: protocol.Request) -> None:
        key = (route, request.job)
        assert request.image is not None  # parse_request gives every dream its image
        if key in self._jobs:
            raise BadRequest(f"job {request.job} is already running; choose a new job id")
        params = self._check_params(request.params or {})
        check_work(params, request.image, self.limits)
        check_share(sum(1 for owner, _ in self._jobs if owner[0] == route[0]), self.limits)
        job = Job(
            next(self._next_serial),
            route,
            request.job,
            params,
            request.image,
            request.pixels,
            snapshots=request.snapshots,
            guide=request.guide,
            guide_pixels=request.guide_pixels,
        )
        job.connection = self._owners.get(route)
        ahead = len(self._jobs)  # every job not yet over, running or queued, runs before it (first in, first out)
        position = self._queue.put(job)
        self._jobs[key] = job
        self._serials[job.serial] = job
        self._peer_log.log(
            route,
            logging.INFO,
            "job %s queued (%dx%d %sx%d, %d before it)",
            job.job_id,
            job.image.width,
            job.image.height,
            job.image.dtype,
            job.image.channels,
            position,
        )
        self._accepted(job, position, ahead)

    def _cancel_request(self, route: tuple[bytes, ...], job_id: str, *, keep: bool = False) -> None:
        job = self._jobs.get((route, job_id))
        if job is None:
            raise UnknownJob(
                f"there is no job {job_id} on this server for this client; it has finished or never arrived"
            )
        job.keep = keep  # read by the worker once the cancel has stopped the dream
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
        if kind == "phase":
            self._phase, self._download = header["phase"], header["download"]
            log.info("loading: %s", self._phase)
            return
        if kind == "ready":
            self._state, self._device, self._backend = "ready", header["device"], header["backend"]
            self._phase, self._download, self._last_activity = None, None, time.monotonic()
            return
        if kind == "failed":
            log.error("cannot serve: %s", header["message"])
            for failed in list(self._jobs.values()):
                self._finish(failed, protocol.error(header["code"], header["message"]))
            self._exit_code, self._state = 1, "stopping"
            return
        job = self._serials.get(header["serial"])
        if job is None:
            return
        if kind == "started":
            self._running, self._running_since = job, time.monotonic()
        elif kind == "progress":
            if self._owned(job):
                self._send(
                    job.envelope,
                    {
                        "type": protocol.PROGRESS,
                        "job": job.job_id,
                        **{k: header[k] for k in ("fraction", "octave", "octaves", "step", "steps", "tiles")},
                        **{k: header[k] for k in ("seconds_left",) if k in header},
                    },
                )
        elif kind == snapshots.SNAPSHOT:
            if self._owned(job):
                self._send(job.envelope, snapshots.reply(job.job_id, header), frames[1])
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
                    **snapshots.partial_field(header),
                },
                frames[1],
            )
        elif kind == "cancelled" and job in self._over_time:
            seconds = time.monotonic() - self._running_since
            self._finish(job, protocol.error("too_large", over_time_message(seconds, self.limits)))
        elif kind == "cancelled":
            self._finish(job, {"type": protocol.CANCELLED})
        else:
            self._finish(job, protocol.error(header["code"], header["message"]))

    def _finish(self, job: Job, header: dict[str, Any], payload: Any = None, *, notify: bool = True) -> None:
        """Send a job's last message and forget it; the jobs behind it hear that they moved up."""
        key = (job.envelope, job.job_id)
        if key not in self._jobs:
            return
        place = list(self._jobs).index(key)
        del self._jobs[key]
        self._serials.pop(job.serial, None)
        self._over_time.discard(job)
        if self._running is job:
            self._running = None
        self._last_activity = time.monotonic()  # idle_exit counts from the last job's end
        outcome = {protocol.RESULT: "done", protocol.CANCELLED: "cancelled"}.get(header["type"], "failed")
        self._counts[outcome] += 1
        self._peer_log.log(
            job.envelope, logging.INFO, "job %s %s after %.2f s", job.job_id, outcome, time.monotonic() - job.received
        )
        if notify and self._owned(job):
            self._send(job.envelope, {**header, "job": job.job_id}, payload)
        self._moved_up(place)

    def _moved_up(self, place: int) -> None:
        """The jobs from ``place`` on moved up one: tell each still waiting how many now run before it
        (``accepted`` again; every job not yet over runs before it, first in, first out)."""
        if self._state == "stopping":  # they are all about to end
            return
        for ahead, (key, waiting) in enumerate(list(self._jobs.items())):
            # a send may have found a client gone and ended its jobs: those are skipped
            if ahead < place or key not in self._jobs or waiting is self._running or not self._owned(waiting):
                continue
            self._accepted(waiting, ahead - (self._running is not None), ahead)

    def _accepted(self, job: Job, position: int, ahead: int) -> None:
        """Tell a job's client where it waits: ``position`` jobs queued before it, ``ahead`` run before it."""
        self._send(job.envelope, {"type": protocol.ACCEPTED, "job": job.job_id, "position": position, "ahead": ahead})

    # -- facts ----------------------------------------------------------------------------------

    def _download_progress(self) -> dict[str, int] | None:
        """Bytes of the weights downloaded so far (Keras writes them straight into its cache) and in all."""
        if self._download is None:
            return None
        try:
            done = os.stat(self._download["path"]).st_size
        except FileNotFoundError:
            done = 0
        return {"done": done, "total": self._download["bytes"]}

    def facts(self) -> dict[str, Any]:
        """What ``hello`` and ``reverie status`` report."""
        return {
            "name": "reverie",
            "version": __version__,
            "protocol": protocol.PROTOCOL_VERSION,
            "pid": os.getpid(),
            "state": self._state,
            "phase": self._phase,
            "download": self._download_progress(),
            "idle_exit": self.config.idle_exit,
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
            "defaults": self._defaults,
            "limits": self.limits.to_dict(),
            "heartbeat_interval": protocol.HEARTBEAT_INTERVAL,
            "queue": len(self._queue),
            "running": self._running.job_id if self._running is not None else None,
            "uptime": time.monotonic() - self._started,
            "jobs_done": self._counts["done"],
            "jobs_cancelled": self._counts["cancelled"],
            "jobs_failed": self._counts["failed"],
        }
