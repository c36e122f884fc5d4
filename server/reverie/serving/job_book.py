"""The server's record of the jobs not yet over: in arrival order, by client and id, by serial, which ones run
(one on a single server, one per dreamer on a cluster).

The worker takes the jobs from the queue; the book is the server's thread's alone.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator

from reverie.serving.jobs import Job
from reverie.serving.worker import JobQueue

Route = tuple[bytes, ...]
OUTCOMES = ("done", "cancelled", "failed")


class JobBook:
    """Every job accepted and not yet answered its last message, queued or running (first in, first out)."""

    def __init__(self, queue: JobQueue) -> None:
        self.queue = queue
        self._jobs: dict[tuple[Route, str], Job] = {}
        self._serials: dict[int, Job] = {}
        self._next_serial = itertools.count(1)
        self._running: dict[Job, float] = {}  # the jobs dreaming now: since when
        self._over_time: set[Job] = set()  # running jobs stopped for their time limit
        self.counts = dict.fromkeys(OUTCOMES, 0)

    def __len__(self) -> int:
        return len(self._jobs)

    def __iter__(self) -> Iterator[Job]:
        """The jobs in arrival order (a copy: handling one may end others)."""
        return iter(list(self._jobs.values()))

    def __contains__(self, job: Job) -> bool:
        return self._jobs.get((job.envelope, job.job_id)) is job

    def next_serial(self) -> int:
        return next(self._next_serial)

    def get(self, route: Route, job_id: str) -> Job | None:
        return self._jobs.get((route, job_id))

    def place(self, job: Job) -> tuple[int, int]:
        """Where a job not yet over stands, as ``add`` said it and the server's moved-up messages say it: the jobs
        queued before it, and all jobs before it (those running first)."""
        ahead = list(self._jobs.values()).index(job)
        return max(0, ahead - self.running_count), ahead

    def by_serial(self, serial: int) -> Job | None:
        return self._serials.get(serial)

    def of(self, route: Route) -> list[Job]:
        """This client's jobs, queued or running."""
        return [job for (owner, _), job in self._jobs.items() if owner == route]

    def of_peer(self, routing_id: bytes) -> int:
        """How many jobs the connection with this routing id has here, under any route."""
        return sum(1 for owner, _ in self._jobs if owner[0] == routing_id)

    def add(self, job: Job) -> tuple[int, int]:
        """Queue a job: how many jobs are queued before it, and how many run before it (every job not yet over)."""
        ahead = len(self._jobs)
        position = self.queue.put(job)
        self._jobs[job.envelope, job.job_id] = job
        self._serials[job.serial] = job
        return position, ahead

    @property
    def running(self) -> Job | None:
        """The job that started first of those running now, or None."""
        return next(iter(self._running), None)

    @property
    def running_count(self) -> int:
        return len(self._running)

    def running_jobs(self) -> list[Job]:
        """The jobs running now, first started first (a copy: ending one changes the book)."""
        return list(self._running)

    def is_running(self, job: Job) -> bool:
        return job in self._running

    def running_since(self, job: Job) -> float:
        """When a running job started (monotonic clock)."""
        return self._running[job]

    def start(self, job: Job) -> None:
        self._running[job] = time.monotonic()

    def stop_over_time(self, max_seconds: float) -> None:
        """Cancel each running job that has run longer than ``max_seconds``; it then ends as over time."""
        now = time.monotonic()
        for running, since in self._running.items():
            if now - since > max_seconds:
                self._over_time.add(running)
                running.cancel.set()

    def over_time(self, job: Job) -> bool:
        return job in self._over_time

    def end(self, job: Job, outcome: str) -> int | None:
        """Forget a job that ended with ``outcome``; its place in the book, or None when it was not there."""
        key = (job.envelope, job.job_id)
        if self._jobs.get(key) is not job:
            return None
        place = list(self._jobs).index(key)
        del self._jobs[key]
        self._serials.pop(job.serial, None)
        self._over_time.discard(job)
        self._running.pop(job, None)
        self.counts[outcome] += 1
        return place
