"""The dream server: one ROUTER socket, every request validated, jobs queued for the worker thread.

Only this thread touches the client socket. Dead clients are found by ROUTER_MANDATORY: every
half second each client with a job gets a heartbeat, and a send to a vanished peer fails at once
(its TCP connection closed, or ZeroMQ's own heartbeats timed it out), so its jobs are cancelled.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import socket
import threading
import time
from typing import Any

import zmq
from zmq.auth.thread import ThreadAuthenticator

from reverie import __version__, keys
from reverie.config import ServerConfig
from reverie.engine import MODELS, PRESETS, DreamParams, get_spec
from reverie.serving import events, peers
from reverie.serving.budget import MemoryBudget, budget_bytes
from reverie.serving.events import EventLink
from reverie.serving.fairness import check_share, check_work, over_time_message
from reverie.serving.inflow import InflowGuard
from reverie.serving.ipc_relay import IpcRelay
from reverie.serving.job_book import JobBook
from reverie.serving.jobs import Job, Order
from reverie.serving.outbox import GONE, Outbox
from reverie.serving.owners import Owners
from reverie.serving.ratelog import PeerLog
from reverie.serving.state import ServerState, package_version
from reverie.serving.worker import JobQueue, Worker
from reverie_wire import protocol
from reverie_wire.errors import BadRequest, ConfigError, ReverieError, UnknownJob, UnknownLayer, UnknownModel
from reverie_wire.images import Image
from reverie_wire.protocol import Atlas, Cancel, Dream, Hello
from reverie_wire.replies import Accepted, Cancelled, Error, Heartbeat, Progress, Reply, Result, Snapshot, Welcome

log = logging.getLogger("reverie.server")

# On shutdown, how long the running job may take to reach its next cancellation check.
STOP_GRACE = 2.0
# How long replies may take to leave when the server closes.
CLOSE_LINGER_MS = 500
# Messages handled per wake-up before the worker's reports get a turn.
BATCH = 64


class DreamServer:
    """Serves one model; ``serve()`` runs until ``stop()`` (signal-safe) and returns an exit code."""

    # Whether its worker renders ``atlas`` requests (a cluster's dreamers do not).
    serves_atlas = True

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.spec = get_spec(config.model)
        # What a job does not name: advertised by hello and applied to every job.
        self._defaults = DreamParams(model=self.spec.name).to_dict()
        # hello announces the budget in bytes, also where the config leaves it to the machine's memory
        self.limits = dataclasses.replace(config.limits, memory_budget=budget_bytes(config.limits))
        self._context = zmq.Context()
        peers.seed_routing_ids()  # before the ROUTER draws the first routing id it will hand out
        self._router = self._context.socket(zmq.ROUTER)
        self._authenticator: ThreadAuthenticator | None = None
        self._events = EventLink(self._context, f"inproc://reverie-worker-{id(self)}")
        # A socket pair, not a pipe: ZeroMQ's poller takes OS sockets on every platform, pipes only on POSIX.
        self._wake_read, self._wake_write = socket.socketpair()
        self._wake_write.setblocking(False)
        self._book = JobBook(JobQueue(config.limits.max_queue, config.limits.max_queue_bytes))
        self._status = ServerState()
        self._budget = MemoryBudget(self.limits.memory_budget)
        self._last_activity = time.monotonic()  # for idle_exit
        self._worker: threading.Thread | None = None
        self._inflow: InflowGuard | None = None
        self._relay: IpcRelay | None = None  # an ipc:// endpoint's listener, whose counts the guard reads
        self._outbox: Outbox | None = None
        self._peer_log = PeerLog(log)  # every line a client's request causes goes through it
        self._owners = Owners()

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
        peers.refuse_taken_ipc(self.config.endpoint)
        endpoint = self.config.endpoint
        if endpoint.startswith("ipc://"):  # the relay listens there and counts; the ROUTER sits behind it
            self._relay = IpcRelay(endpoint.removeprefix("ipc://"))
            endpoint = self._relay.router_endpoint
        self._inflow = InflowGuard(
            router,
            self.limits.max_inflight_bytes,
            self.limits.max_connections,
            self._authenticator is not None,
            self._budget,
            self._relay,
        )
        try:
            router.bind(endpoint)
            if self._relay is not None:
                self._relay.listen()
        except (zmq.ZMQError, OSError) as error:
            raise ConfigError(f"cannot listen on {self.config.endpoint}: {error}") from None
        self._inflow.start()
        if self._relay is not None:
            self._relay.start()
        self._outbox = Outbox(
            router,
            self._inflow.acknowledged,
            self.limits.max_unread_bytes,
            self.limits.unread_seconds,
            self._peer_log,
            self._owners.still_here,
        )
        self._worker = self._make_worker()
        self._worker.start()
        log.info(
            "listening on %s (protocol %d, pid %d)",
            self.config.endpoint,
            protocol.PROTOCOL_VERSION,
            os.getpid(),
        )

    def _make_worker(self) -> threading.Thread:
        """The thread that dreams the queued jobs and reports through ``self._events`` (a cluster's front hands
        them on to its dreamers instead)."""
        return Worker(
            self._events,
            self._book.queue,
            self.spec.name,
            self.config.weights,
            self.limits.max_compiled,
            self.config.warm_up,
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
        poller.register(self._events.socket, zmq.POLLIN)
        poller.register(self._wake_read.fileno(), zmq.POLLIN)
        next_heartbeat = time.monotonic() + protocol.HEARTBEAT_INTERVAL
        while self._status.state != "stopping":
            ready = dict(poller.poll(max(0, int((next_heartbeat - time.monotonic()) * 1000))))
            if self._wake_read.fileno() in ready:
                self._wake_read.recv(64)
                self._status.state = "stopping"
                break
            if self._events.socket in ready:
                self._drain_events()
            if self._router in ready:
                self._drain_router()
            if time.monotonic() >= next_heartbeat:
                self._heartbeat()
                next_heartbeat = time.monotonic() + protocol.HEARTBEAT_INTERVAL
            if self._idle_too_long():
                log.info("no requests for %.0f s: exiting to free memory ([server] idle_exit)", self.config.idle_exit)
                break
        self._shutdown()
        return self._status.exit_code

    def _idle_too_long(self) -> bool:
        """Whether a ready server with no jobs has heard no request for ``idle_exit``."""
        idle_exit = self.config.idle_exit
        return (
            idle_exit is not None
            and self._status.state == "ready"
            and not self._book
            and time.monotonic() - self._last_activity >= idle_exit
        )

    def _drain_router(self) -> None:
        for _ in range(BATCH):
            try:
                frames = self._router.recv_multipart(zmq.NOBLOCK, copy=False)
            except zmq.Again:
                return
            self._on_client(frames)
            if self._status.state == "stopping":
                return

    def _drain_events(self) -> None:
        for _ in range(BATCH):
            event = self._events.receive()
            if event is None:
                return
            self._on_worker(event)
            if self._status.state == "stopping":
                return

    def _shutdown(self) -> None:
        """Answer every job ``cancelled`` (the running ones once they stop, at most STOP_GRACE later)."""
        for job in self._book:
            job.cancel.set()  # also the one the worker may have taken but not yet reported
        for job in self._book.queue.close():
            self._finish(job, Cancelled(job.job_id))
        deadline = time.monotonic() + STOP_GRACE
        while self._book.running is not None and self._events.wait(deadline - time.monotonic()):
            self._drain_events()
        for running in self._book.running_jobs():
            log.warning("job %s did not reach a cancellation check in %.0f s; leaving it", running.job_id, STOP_GRACE)
            self._finish(running, Cancelled(running.job_id))
        for job in self._book:
            self._finish(job, Cancelled(job.job_id))
        if self._inflow is not None and self._inflow.is_alive():
            self._inflow.stop()
        self._router.close()
        if self._relay is not None:  # its files go now: the end below may be skipped for a stuck worker
            self._relay.unlink()
        self._events.close()
        if self._authenticator is not None:
            self._authenticator.stop()
        self._wake_read.close()
        self._wake_write.close()
        log.info("stopped after %d jobs", self._book.counts["done"])

    def close_context(self) -> None:
        """End ZeroMQ once the worker has finished (the worker's socket belongs to this context), then the ipc relay,
        which carried the last replies out."""
        self._context.term()
        if self._relay is not None and self._relay.is_alive():
            self._relay.stop()

    # -- sending --------------------------------------------------------------------------------

    def _send(self, envelope: tuple[bytes, ...], reply: Reply) -> None:
        """Send to one client through the outbox (a job's last message is never dropped); if the client is gone
        (ROUTER_MANDATORY says so at once), cancel its jobs."""
        if self._outbox is not None and self._outbox.send(envelope, reply.encode(), *reply.frames) == GONE:
            self._client_gone(envelope)

    def _owes(self, envelope: tuple[bytes, ...]) -> bool:
        """Whether this client has jobs here or messages waiting for it."""
        waiting = self._outbox is not None and self._outbox.waiting_for(envelope)
        return waiting or bool(self._book.of(envelope))

    def _client_gone(self, envelope: tuple[bytes, ...]) -> None:
        self._owners.forget(envelope)
        if self._outbox is not None:
            self._outbox.forget(envelope)
        for job in self._book.of(envelope):
            self._peer_log.log(envelope, logging.INFO, "client of job %s disconnected; cancelling it", job.job_id)
            self._cancel(job, notify=False)

    def _heartbeat(self) -> None:
        for envelope in self._owners.routes():
            if not self._owners.still_here(envelope):
                self._client_gone(envelope)
            elif not self._owes(envelope):
                self._owners.forget(envelope)  # owed nothing: forgotten, so the table stays as small as the work
        for envelope in {job.envelope for job in self._book if self._owners.own(job)}:
            self._send(envelope, Heartbeat())
        self._book.stop_over_time(self.limits.max_job_seconds)
        self._count_held()
        if self._outbox is not None:
            for envelope in self._outbox.flush():  # clients that read nothing for too long: their jobs stop
                for job in self._book.of(envelope):
                    self._cancel(job, notify=True)

    # -- client requests ------------------------------------------------------------------------

    def _on_client(self, frames: list[zmq.Frame]) -> None:
        if self._inflow is not None and not self._inflow.taken(frames):
            return  # its key holds its share of the connections: this one is cut
        envelope, body = protocol.split(frames)
        route = tuple(frame.bytes for frame in envelope)
        if not route:
            return  # nothing to answer to: only possible from a misbehaving intermediary
        self._last_activity = time.monotonic()
        connection = peers.connection_of(frames[-1])
        if self._owners.taken_over(route, connection):  # the id's first connection is gone: not its owner
            self._client_gone(route)
        self._owners.claim(route, connection)
        peer = peers.peer_of(frames[-1], connection)
        if self._outbox is not None:
            self._outbox.know(route, peer)  # what it has not read counts in its peer's share
        try:
            match protocol.parse_request(body, self.limits):
                case Hello(req):
                    self._send(route, Welcome(req, self.facts()))
                case Dream() as dream:
                    self._accept(route, dream, peer)
                case Cancel(job, keep):
                    self._cancel_request(route, job, keep=keep)
                case Atlas() as atlas:
                    self._accept_atlas(route, atlas, peers.peer_of(frames[-1], connection))
        except ReverieError as error:
            self._send(route, Error(error.code, str(error), **protocol.reply_ids(body)))
        except Exception as error:
            self._peer_log.log(route, logging.ERROR, "a request could not be read", exc_info=True)
            message = f"the request could not be read: {error!r}"
            self._send(route, Error("bad_request", message, **protocol.reply_ids(body)))

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

    def _sent_again(self, route: tuple[bytes, ...], job_id: str) -> bool:
        """Whether this connection already has the job queued or running: a client that feared the request lost
        with a dropped connection sent it again. It is answered ``accepted`` again, and runs once."""
        job = self._book.get(route, job_id)
        if job is None:
            return False
        self._accepted(job, *self._book.place(job))
        return True

    def _accept_atlas(self, route: tuple[bytes, ...], request: Atlas, peer: object) -> None:
        """Queue an atlas request as a job: the worker renders it, cancellable, within the limits dreams keep."""
        from reverie.atlas.served import check_atlas_work, sheet_spec

        order = request.order
        if not self.serves_atlas:
            raise BadRequest("a cluster's front renders no atlas; ask a single dream server, or run `reverie atlas`")
        if self._sent_again(route, request.job):
            return
        if order.layer not in self.spec.dream_layers:
            raise UnknownLayer(
                f"{self.spec.name} has no dream layer {order.layer!r}; its layers: {', '.join(self.spec.dream_layers)}"
            )
        check_atlas_work(order, self.limits)
        check_share(sum(1 for queued in self._book if queued.peer == peer), self.limits)
        sheet = Image.of(sheet_spec(order), None)  # its pixels come with the result
        self._budget.check_job(sheet.nbytes)
        params = DreamParams.from_dict(self._defaults)
        job = Job.of(Order(self._book.next_serial(), request.job, params, sheet, atlas=order), route)
        self._queue(job, route, peer, f"atlas of {order.layer} channels {order.first}-{order.last}")

    def _accept(self, route: tuple[bytes, ...], request: Dream, peer: object) -> None:
        if self._sent_again(route, request.job):
            return
        params = self._check_params(request.params)
        extras = {name: extra.spec for name, extra in request.extras.items()}
        check_work(params, request.image.spec, self.limits, extras)
        check_share(sum(1 for queued in self._book if queued.peer == peer), self.limits)
        self._budget.check_job(request.image.nbytes + sum(extra.nbytes for extra in request.extras.values()))
        order = Order(self._book.next_serial(), request.job, params, request.image, request.extras, request.snapshots)
        image = request.image
        self._queue(Job.of(order, route), route, peer, f"{image.width}x{image.height} {image.dtype}x{image.channels}")

    def _queue(self, job: Job, route: tuple[bytes, ...], peer: object, what: str) -> None:
        """Queue an accepted job and tell its client where it waits."""
        job.connection = self._owners.connection(route)
        job.peer = peer
        position, ahead = self._book.add(job)
        self._count_held()
        self._peer_log.log(route, logging.INFO, "job %s queued (%s, %d before it)", job.job_id, what, position)
        self._accepted(job, position, ahead)

    def _cancel_request(self, route: tuple[bytes, ...], job_id: str, *, keep: bool = False) -> None:
        job = self._book.get(route, job_id)
        if job is None:
            raise UnknownJob(
                f"there is no job {job_id} on this server for this client; it has finished or never arrived"
            )
        job.keep = keep  # read by the worker once the cancel has stopped the dream
        self._cancel(job, notify=True)

    def _cancel(self, job: Job, *, notify: bool) -> None:
        """Stop a job: a queued one is answered now, a running one when the worker reaches its next step."""
        job.cancel.set()
        if self._book.queue.remove(job):
            self._finish(job, Cancelled(job.job_id), notify=notify)

    # -- worker reports -------------------------------------------------------------------------

    def _on_worker(self, event: events.Event) -> None:
        status = self._status
        match event:
            case events.Phase(phase, download):
                status.phase, status.download = phase, download
                log.info("loading: %s", phase)
            case events.Ready(device, backend):
                status.state, status.device, status.backend = "ready", device, backend
                status.phase, status.download, self._last_activity = None, None, time.monotonic()
            case events.LoadFailed(code, message):
                log.error("cannot serve: %s", message)
                for failed in self._book:
                    self._finish(failed, Error(code, message, failed.job_id))
                status.exit_code, status.state = 1, "stopping"
            case _:
                job = self._book.by_serial(event.serial)
                if job is not None:
                    self._on_job_event(job, event)

    def _on_job_event(self, job: Job, event: events.Event) -> None:
        match event:
            case events.Started():
                self._book.start(job)
            case events.Stepped() if self._owners.own(job):
                progress = {name: value for name, value in vars(event).items() if name != "serial"}
                self._send(job.envelope, Progress(job.job_id, **progress))
            case events.Snapshot(fields=fields, pixels=pixels) if self._owners.own(job) and self._budget.fits(
                memoryview(pixels).nbytes
            ):
                self._send(job.envelope, Snapshot(job.job_id, pixels, **fields))
            case events.Dreamed():
                image, seconds = job.image, time.monotonic() - job.received
                result = Result(
                    job.job_id,
                    event.pixels,
                    image.width,
                    image.height,
                    image.channels,
                    image.dtype,
                    event.seed,
                    seconds,
                    event.engine_seconds,
                    event.notes,
                    event.partial,
                    event.atlas,
                )
                self._finish(job, result)
            case events.Cancelled() if self._book.over_time(job):
                seconds = time.monotonic() - self._book.running_since(job)
                self._finish(job, Error("too_large", over_time_message(seconds, self.limits), job.job_id))
            case events.Cancelled():
                self._finish(job, Cancelled(job.job_id))
            case events.Failed(code=code, message=message):
                self._finish(job, Error(code, message, job.job_id))

    def _finish(self, job: Job, reply: Result | Cancelled | Error, *, notify: bool = True) -> None:
        """Send a job's last message and forget it; the jobs behind it hear that they moved up."""
        outcome = {protocol.RESULT: "done", protocol.CANCELLED: "cancelled"}.get(reply.type, "failed")
        place = self._book.end(job, outcome)
        if place is None:
            return
        self._last_activity = time.monotonic()  # idle_exit counts from the last job's end
        self._count_held()
        self._peer_log.log(
            job.envelope, logging.INFO, "job %s %s after %.2f s", job.job_id, outcome, time.monotonic() - job.received
        )
        if notify and self._owners.own(job):
            self._send(job.envelope, reply)
        self._moved_up(place)

    def _count_held(self) -> None:
        """What the server holds for clients, for the memory budget: its jobs' pixels and what they have not read."""
        unread = self._outbox.held_total() if self._outbox is not None else 0
        self._budget.held = sum(job.nbytes for job in self._book) + unread

    def _moved_up(self, place: int) -> None:
        """The jobs from ``place`` on moved up one: tell each still waiting how many now run before it
        (``accepted`` again; every job not yet over runs before it, first in, first out)."""
        if self._status.state == "stopping":  # they are all about to end
            return
        book = self._book
        for ahead, waiting in enumerate(book):
            # a send may have found a client gone and ended its jobs: those are skipped
            if ahead < place or waiting not in book or book.is_running(waiting) or not self._owners.own(waiting):
                continue
            self._accepted(waiting, ahead - book.running_count, ahead)

    def _accepted(self, job: Job, position: int, ahead: int) -> None:
        """Tell a job's client where it waits: ``position`` jobs queued before it, ``ahead`` run before it."""
        self._send(job.envelope, Accepted(job.job_id, position, ahead))

    # -- facts ----------------------------------------------------------------------------------

    def facts(self) -> dict[str, Any]:
        """What ``hello`` and ``reverie status`` report."""
        status, book = self._status, self._book
        return {
            "name": "reverie",
            "version": __version__,
            "protocol": protocol.PROTOCOL_VERSION,
            "pid": os.getpid(),
            "state": status.state,
            "phase": status.phase,
            "download": status.download_progress(),
            "idle_exit": self.config.idle_exit,
            "endpoint": self.config.endpoint,
            "encrypted": self._authenticator is not None,
            "tensorflow": package_version("tensorflow"),
            "keras": package_version("keras"),
            "backend": status.backend,
            "backend_version": None if status.backend is None else package_version(status.backend),
            "device": status.device,
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
            "atlas": self.serves_atlas,
            "defaults": self._defaults,
            "limits": self.limits.to_dict(),
            "heartbeat_interval": protocol.HEARTBEAT_INTERVAL,
            "queue": len(book.queue),
            "running": book.running.job_id if book.running is not None else None,
            "uptime": time.monotonic() - status.started,
            "jobs_done": book.counts["done"],
            "jobs_cancelled": book.counts["cancelled"],
            "jobs_failed": book.counts["failed"],
        }
