"""The front's side of the cluster: it starts the dreamers, gives each queued job to a free one and relays the job's
reports to the server's thread exactly as its own worker thread would (``reverie.serving.events``, through the same
event link).

A job lost with its dreamer (its node gone, its process killed) runs again from the start on another dreamer, with
the seed it was given here, so it comes out the same; after ``MAX_RUNS`` it ends with an error that says so.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from dataclasses import replace
from typing import Any

import numpy as np
import ray

from reverie.cluster.dreamer import FINAL, Dreamer
from reverie.cluster.pool import Dreamer as Placed
from reverie.cluster.pool import Pool
from reverie.cluster.settings import LOCAL, ClusterSettings
from reverie.serving.events import (
    Cancelled,
    Dreamed,
    Event,
    EventLink,
    EventSender,
    Failed,
    LoadFailed,
    Phase,
    Ready,
)
from reverie.serving.jobs import Job
from reverie.serving.server import STOP_GRACE
from reverie.serving.worker import JobQueue
from reverie_wire.ranges import MAX_SEED

log = logging.getLogger("reverie.cluster")

# How many times a job may start on a dreamer that is then lost, before it ends in an error.
MAX_RUNS = 3
# How often running jobs are checked for a cancel to forward to their dreamer (well within the 0.5 s promised).
CANCEL_CHECK_SECONDS = 0.02
# Jobs waiting while every dreamer is lost or failed end in an error after this long (Ray may restart one before).
NO_DREAMER_SECONDS = 120.0
# Of a dreamer's part of a shared GPU, what JAX may take (the rest is CUDA's context and the other's margin).
JAX_SHARE_OF_PART = 0.9


def sharing_variables(gpus: float) -> dict[str, str]:
    """What lets a dreamer with part of a GPU share it: TensorFlow and JAX each take nearly all of a GPU's memory
    at their first use unless told to grow (TensorFlow) or to keep to a fraction (JAX, with room for CUDA's own)."""
    if not 0 < gpus < 1:
        return {}
    return {"TF_FORCE_GPU_ALLOW_GROWTH": "true", "XLA_PYTHON_CLIENT_MEM_FRACTION": f"{gpus * JAX_SHARE_OF_PART:.2f}"}


class AgainQueue(JobQueue):
    """The job queue, where a job whose dreamer was lost goes back to the front; closing it also stops the
    dispatcher's wait for a free dreamer."""

    on_close: Any = None

    def again(self, job: Job) -> None:
        with self._ready:
            self._jobs.appendleft(job)
            self._ready.notify()

    def drain(self) -> list[Job]:
        """Take out every waiting job."""
        with self._ready:
            left = list(self._jobs)
            self._jobs.clear()
            return left

    def close(self) -> list[Job]:
        if self.on_close is not None:
            self.on_close()
        return super().close()


class _Link:
    """The worker's end of the event link, shared by the jobs' threads (its wake socket takes one send at a time);
    once closed, what is still sent is dropped (the server has stopped listening)."""

    def __init__(self, sender: EventSender) -> None:
        self._sender = sender
        self._lock = threading.Lock()
        self._closed = False

    def send(self, event: Event) -> None:
        with self._lock:
            if not self._closed:
                self._sender.send(event)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._sender.close()


def _array(frame: Any) -> np.ndarray:
    """A received frame as bytes Ray can place in its object store without copying it first."""
    return np.frombuffer(frame, dtype=np.uint8)


class ClusterWorker(threading.Thread):
    """Stands where the single server's worker thread stands: same queue, same link, same reports."""

    def __init__(
        self,
        events: EventLink,
        queue: AgainQueue,
        settings: ClusterSettings,
        dreamer_args: tuple[Any, ...],
        backend: str | None,
    ) -> None:
        super().__init__(name="reverie-cluster", daemon=True)
        self._events = events
        self._queue = queue
        self.settings = settings
        self._dreamer_args = dreamer_args
        self._backend = backend
        self.pool: Pool | None = None
        self._running: dict[int, tuple[Job, Placed]] = {}
        self._forwarded: set[int] = set()
        self._runs: dict[int, list[str]] = {}  # per job: the dreamers lost under it
        self._lock = threading.Condition()  # guards the three above; notified when a job ends
        self._closed = threading.Event()  # the queue is closed: the server stops
        self._ended = threading.Event()  # the dispatcher is done, its running jobs over or given up

    def run(self) -> None:
        link = _Link(self._events.sender())
        try:
            if self._start(link):
                threading.Thread(target=self._watch, args=(link,), name="reverie-watch", daemon=True).start()
                self._dispatch(link)
                with self._lock:  # the server cancelled them all: let their dreamers say so
                    self._lock.wait_for(lambda: not self._running, STOP_GRACE)
        finally:
            self._ended.set()
            if self.pool is not None:
                self.pool.close()
            link.close()
            ray.shutdown()

    # -- start ----------------------------------------------------------------------------------

    def _start(self, link: _Link) -> bool:
        """Join (or start) the Ray cluster and start the dreamers; the server hears ``ready`` when the first is."""
        settings = self.settings
        link.send(Phase(f"joining the Ray cluster at {settings.address}"))
        try:
            if settings.address == LOCAL:
                assert settings.dreamers is not None  # local:N names its count
                ray.init(num_cpus=max(1, round(settings.dreamers * settings.cpus_per_dreamer)), include_dashboard=False)
            else:
                ray.init(address=settings.address)
        except Exception as error:  # Ray raises ConnectionError, RuntimeError or ValueError for a bad address
            message = f"cannot join the Ray cluster at {settings.address}: {error}"
            link.send(LoadFailed("internal", message))
            return False
        count, gpus = self._shape()
        options: dict[str, Any] = {
            "num_cpus": settings.cpus_per_dreamer,
            "num_gpus": gpus,
            "max_restarts": -1,  # Ray brings a lost dreamer back, on another node if its own is gone
            "max_task_retries": 0,  # a lost job is run again here, where its client is told
            "max_concurrency": 4,  # a running dream, and a cancel or facts beside it
            "scheduling_strategy": "SPREAD",
        }
        variables = sharing_variables(gpus)
        if self._backend is not None:
            variables["KERAS_BACKEND"] = self._backend
        if variables:
            options["runtime_env"] = {"env_vars": variables}
        actors = [ray.remote(Dreamer).options(**options).remote(*self._dreamer_args) for _ in range(count)]
        phase = f"loading the model on {count} dreamer{'' if count == 1 else 's'} ({gpus:g} GPU each)"
        link.send(Phase(phase))
        log.info("%s on the Ray cluster at %s", phase, settings.address)

        def first_ready(dreamer: Placed) -> None:
            link.send(Ready(dreamer.facts["device"], dreamer.facts["backend"]))

        def all_failed(facts: dict[str, Any]) -> None:
            link.send(LoadFailed(facts.get("code", "internal"), facts["message"]))
            self._queue.close()

        self.pool = Pool(actors, first_ready, all_failed)
        if self._closed.is_set():  # the server stopped while Ray started
            self.pool.close()
        return True

    def _shape(self) -> tuple[int, float]:
        """How many dreamers, and GPUs each: as configured, else one per GPU, else one per node on CPU."""
        settings = self.settings
        gpus_there = ray.cluster_resources().get("GPU", 0.0)
        gpus = settings.gpus_per_dreamer if settings.gpus_per_dreamer is not None else (1.0 if gpus_there else 0.0)
        if settings.dreamers is not None:
            return settings.dreamers, gpus
        if gpus:
            return max(1, int(gpus_there / gpus)), gpus
        return max(1, sum(1 for node in ray.nodes() if node["Alive"])), gpus

    # -- jobs -----------------------------------------------------------------------------------

    def _dispatch(self, link: _Link) -> None:
        """Each free dreamer takes the next job in line (a job waits in the queue, cancellable, until one is free)."""
        assert self.pool is not None
        while self.pool.wait_free():
            job = self._queue.take()
            if job is None:
                return
            dreamer = None if job.cancel.is_set() else self.pool.take(job.job_id)
            if dreamer is None:  # cancelled, or the server stops
                link.send(Cancelled(job.serial))
                continue
            if job.params.seed is None:  # chosen here, so a run again on another dreamer dreams the same
                job.params = replace(job.params, seed=secrets.randbelow(MAX_SEED + 1))
            with self._lock:
                self._running[job.serial] = (job, dreamer)
            threading.Thread(target=self._follow, args=(link, job, dreamer), daemon=True).start()

    def _follow(self, link: _Link, job: Job, dreamer: Placed) -> None:
        """Relay one run of a job on one dreamer; a lost dreamer sends the job back to the queue."""
        assert self.pool is not None
        order = job.order().with_pixels(_array)
        try:
            for reference in dreamer.actor.dream.remote(order):
                event = ray.get(reference)
                if isinstance(event, FINAL):
                    self._end(link, job, dreamer, event)
                    return
                link.send(event)
        except ray.exceptions.RayTaskError as error:  # not the dream's failure (the worker reports those): ours
            log.error("job %s failed on %s: %s", job.job_id, dreamer.name, error)
            message = f"the dream failed on {dreamer.name}: {error.cause!r}; see the server's log"
            self._end(link, job, dreamer, Failed(job.serial, "internal", message))
        except ray.exceptions.RayError as error:  # the actor died, its node went, or Ray restarts it now
            self._lost(link, job, dreamer, error)

    def _end(self, link: _Link, job: Job, dreamer: Placed, event: Event) -> None:
        assert self.pool is not None
        with self._lock:
            self._running.pop(job.serial, None)
            self._forwarded.discard(job.serial)
            lost = self._runs.pop(job.serial, [])
            self._lock.notify_all()
        if isinstance(event, Dreamed) and lost:
            again = f"{', '.join(lost)} {'was' if len(lost) == 1 else 'were'} lost mid-dream"
            note = f"{again}; {dreamer.name} dreamed it again, with the same seed"
            event = replace(event, notes=[*event.notes, note])
        self.pool.free(dreamer)
        link.send(event)

    def _lost(self, link: _Link, job: Job, dreamer: Placed, error: Exception) -> None:
        assert self.pool is not None
        self.pool.lost(dreamer)
        with self._lock:
            self._running.pop(job.serial, None)
            self._forwarded.discard(job.serial)
            lost = self._runs.setdefault(job.serial, [])
            lost.append(f"{dreamer.name} (on {dreamer.facts.get('host')})")
            runs = len(lost)
            self._lock.notify_all()
        log.warning("job %s lost with %s (%s)", job.job_id, dreamer.name, type(error).__name__)
        if job.cancel.is_set():
            with self._lock:
                self._runs.pop(job.serial, None)
            link.send(Cancelled(job.serial))
        elif runs >= MAX_RUNS:
            with self._lock:
                self._runs.pop(job.serial, None)
            message = (
                f"the job was started {runs} times and each time its dreamer was lost ({', '.join(lost)}); "
                "the cluster's nodes may be failing (see `ray status` and the server's log)"
            )
            link.send(Failed(job.serial, "internal", message))
        else:
            self._queue.again(job)

    def _watch(self, link: _Link) -> None:
        """Until the dispatcher ends: forward cancels, and end the waiting jobs when no dreamer is left."""
        gone_since: float | None = None
        while not self._ended.wait(CANCEL_CHECK_SECONDS):
            self._forward_cancels()
            gone_since = self.give_up_without_dreamers(link, gone_since, time.monotonic())

    def _forward_cancels(self) -> None:
        """Pass each running job's cancel (and keep) to its dreamer, once."""
        with self._lock:
            asked = [
                (job, dreamer)
                for serial, (job, dreamer) in self._running.items()
                if job.cancel.is_set() and serial not in self._forwarded
            ]
            self._forwarded.update(job.serial for job, _ in asked)
        for job, dreamer in asked:
            dreamer.actor.cancel.remote(job.serial, job.keep)

    def give_up_without_dreamers(self, link: _Link, since: float | None, now: float) -> float | None:
        """Once every dreamer has been lost or failed (none loading, ready or busy) for NO_DREAMER_SECONDS, the jobs
        waiting end in an error that says so, rather than waiting on; returns since when none is left, else None."""
        assert self.pool is not None
        if self.pool.alive():
            return None
        if since is None or now - since < NO_DREAMER_SECONDS:
            return now if since is None else since
        jobs = self._queue.drain()
        states = ", ".join(f"{each['name']} {each['state']}" for each in self.pool.describe())
        message = (
            f"no dreamer has worked for {NO_DREAMER_SECONDS:.0f} s ({states}) and Ray has not restarted any; the job "
            "was not dreamed (see `ray status` and the server's log)"
        )
        for job in jobs:
            with self._lock:
                self._runs.pop(job.serial, None)
            link.send(Failed(job.serial, "internal", message))
        return since

    def pool_closed(self) -> None:
        """The server closed the queue (it stops): no more waiting for a free dreamer."""
        self._closed.set()
        if self.pool is not None:
            self.pool.close()

    def working(self) -> int:
        """How many dreamers take jobs now (ready or busy)."""
        return 0 if self.pool is None else self.pool.working()

    def describe(self) -> dict[str, Any]:
        """``hello``'s view of the cluster: its address and each dreamer."""
        dreamers = [] if self.pool is None else self.pool.describe()
        devices = sorted({str(each["device"]) for each in dreamers if each["device"]})
        return {"cluster": self.settings.address, "dreamers": dreamers, "devices": devices}
