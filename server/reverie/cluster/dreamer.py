"""A dreamer: one Ray actor holding one warm model, which dreams one job at a time and streams its reports back.

It runs the single server's own worker code (``reverie.serving.worker``): the same loading, progress, snapshots,
seeds, stop-and-keep and errors, so a job dreams the same on a cluster as on one server. Its reports are the worker's
events (``reverie.serving.events``), yielded one by one from a Ray streaming generator, their pixels as NumPy arrays
(which Ray hands over without pickling them).
"""

from __future__ import annotations

import dataclasses
import os
import queue
import socket
import threading
from collections.abc import Iterator
from typing import Any

import numpy as np
import ray

from reverie.serving import events
from reverie.serving.jobs import Job, Order
from reverie.serving.worker import Worker

# The reports after which a job is over.
FINAL = (events.Dreamed, events.Cancelled, events.Failed)


class _Reports:
    """The worker's end of its event link, as the worker uses it (``send``), handing each event to a queue with
    its pixels as an array (a memoryview cannot leave the process)."""

    def __init__(self) -> None:
        self.queue: queue.Queue[events.Event] = queue.Queue()

    def send(self, event: events.Event) -> None:
        if isinstance(event, (events.Snapshot, events.Dreamed)):
            event = dataclasses.replace(event, pixels=np.asarray(event.pixels))
        self.queue.put(event)


def _loaded_facts(event: events.Event) -> dict[str, Any]:
    """What loading ended with, as ``facts`` tells it: ``ready`` with the device and backend, or ``failed``."""
    match event:
        case events.Ready(device, backend):
            return {"type": "ready", "device": device, "backend": backend}
        case events.LoadFailed(code, message):
            return {"type": "failed", "code": code, "message": message}
    raise AssertionError(f"loading ended with {event!r}")


class Dreamer:
    """Loads the model when Ray starts (or restarts) the actor; ``dream`` streams one job, ``cancel`` stops it."""

    def __init__(self, model: str, weights: str, compiled_kept: int, warm_up: tuple[tuple[int, int], ...] | None):
        # Never started as a thread: its loading and its ``_run`` are the single server's, driven from here.
        self._worker = Worker(None, None, model, weights, compiled_kept, warm_up)  # type: ignore[arg-type]
        reports = _Reports()
        self._model = self._worker._load(reports)  # type: ignore[arg-type]
        *_, last = list(reports.queue.queue)
        self._loaded = _loaded_facts(last)
        self._jobs: dict[int, Job] = {}
        self._early: dict[int, bool] = {}  # cancels that came before their job (Ray may run them first)
        self._lock = threading.Lock()

    def facts(self) -> dict[str, Any]:
        """Where this dreamer runs and what it holds: the worker's ``ready`` (device, backend) or ``failed``."""
        return {
            **self._loaded,
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "node": ray.get_runtime_context().get_node_id(),
        }

    def dream(self, order: Order) -> Iterator[events.Event]:
        """The job's events, ``Started`` to its last (``Dreamed``, ``Cancelled`` or ``Failed``), as the worker
        sends them."""
        job = Job.of(order)
        if self._model is None:
            yield events.Failed(order.serial, self._loaded["code"], self._loaded["message"])
            return
        with self._lock:
            self._jobs[order.serial] = job
            if order.serial in self._early:
                job.keep = self._early.pop(order.serial)
                job.cancel.set()
        reports = _Reports()
        # The worker reports synchronously; a thread lets each report leave while the dream goes on.
        thread = threading.Thread(target=self._worker._run, args=(reports, self._model, job), daemon=True)
        thread.start()
        try:
            while True:
                event = reports.queue.get()
                yield event
                if isinstance(event, FINAL):
                    return
        finally:
            job.cancel.set()  # the front stopped listening (it lost us, or shut down): stop dreaming
            thread.join()
            with self._lock:
                self._jobs.pop(order.serial, None)

    def cancel(self, serial: int, keep: bool) -> None:
        """Stop a job before its next step; with ``keep`` its result is the image as far as it came."""
        with self._lock:
            job = self._jobs.get(serial)
            if job is None:
                self._early[serial] = keep
                return
        job.keep = keep
        job.cancel.set()
