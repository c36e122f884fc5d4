"""A dreamer: one Ray actor holding one warm model, which dreams one job at a time and streams its reports back.

It runs the single server's own worker code (``reverie.worker``): the same loading, progress, snapshots, seeds,
stop-and-keep and errors, so a job dreams the same on a cluster as on one server. Its reports are the worker's
(``[header]`` or ``[header, pixels]``), yielded one by one from a Ray streaming generator.
"""

from __future__ import annotations

import json
import os
import queue
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import ray

from reverie.engine import DreamParams
from reverie.worker import Job, Worker
from reverie_wire.protocol import ImageSpec
from reverie_wire.snapshots import SnapshotRequest

# The reports after which a job is over.
FINAL = frozenset({"result", "cancelled", "error"})


@dataclass(frozen=True)
class Order:
    """What a dreamer needs of an accepted job: everything but the client, which only the front knows."""

    serial: int
    job_id: str
    params: DreamParams
    image: ImageSpec
    pixels: np.ndarray | None
    guide: ImageSpec | None
    guide_pixels: np.ndarray | None
    snapshots: SnapshotRequest | None


class _Reports:
    """The worker's link, as the worker uses it (``send_multipart``), handing each report to a queue."""

    def __init__(self) -> None:
        self.queue: queue.Queue[tuple[dict[str, Any], Any]] = queue.Queue()

    def send_multipart(self, frames: list[Any], copy: bool = True) -> None:
        self.queue.put((json.loads(frames[0]), frames[1] if len(frames) > 1 else None))


class Dreamer:
    """Loads the model when Ray starts (or restarts) the actor; ``dream`` streams one job, ``cancel`` stops it."""

    def __init__(self, model: str, weights: str, compiled_kept: int, warm_up: tuple[tuple[int, int], ...] | None):
        # Never started as a thread: its loading and its ``_run`` are the single server's, driven from here.
        self._worker = Worker(None, "", None, model, weights, compiled_kept, warm_up)  # type: ignore[arg-type]
        reports = _Reports()
        self._model = self._worker._load(reports)  # type: ignore[arg-type]
        *_, (self._loaded, _) = list(reports.queue.queue)
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

    def dream(self, order: Order) -> Iterator[tuple[dict[str, Any], Any]]:
        """The job's reports, ``started`` to its last (result, cancelled or error), as the worker sends them."""
        job = Job(
            order.serial,
            (),
            order.job_id,
            order.params,
            order.image,
            order.pixels,
            guide=order.guide,
            guide_pixels=order.guide_pixels,
            snapshots=order.snapshots,
        )
        if self._model is None:
            yield {**self._loaded, "type": "error", "serial": order.serial}, None
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
                header, payload = reports.queue.get()
                yield header, payload
                if header["type"] in FINAL:
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
