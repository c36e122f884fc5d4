"""Following one dream job from GIMP's main loop: ``pump`` takes what has arrived and never waits.

No GIMP and no GTK here (tests drive it with a real server or fakes): the dialog's timer calls ``pump``,
and a listener gets the snapshots, the progress and the end.
"""

from __future__ import annotations

import time
from typing import Protocol, Union

from reverie_wire.client import Cancelled, DreamClient, Progress, Queued, Result, Snapshot
from reverie_wire.errors import ReverieError

# How a job ended: its result (``partial`` set when stopped and kept), cancelled, or the error it failed with.
Outcome = Union[Result, Cancelled, ReverieError]  # noqa: UP007 - GIMP's Python may be older than 3.10


class Listener(Protocol):
    """Where a followed job's events go (the preview pane, the progress window)."""

    def queued(self, event: Queued) -> None: ...

    def snapshot(self, event: Snapshot) -> None: ...

    def progress(self, event: Progress) -> None: ...

    def finished(self, outcome: Outcome) -> None: ...


class FollowedJob:
    """One submitted job; events of other jobs on the same client (a preview cancelled a moment ago) are
    dropped."""

    def __init__(self, client: DreamClient, job_id: str, listener: Listener) -> None:
        self.client = client
        self.job_id = job_id
        self.listener = listener
        self.outcome: Outcome | None = None

    @property
    def running(self) -> bool:
        return self.outcome is None

    def pump(self, wait: float = 0.0) -> bool:
        """Hand on every event that has arrived (waiting at most ``wait`` for the first); True while it runs."""
        while self.running:
            try:
                event = self.client.poll(wait)
            except ReverieError as error:
                if error.job_id in (None, self.job_id):
                    self._end(error)
                continue
            wait = 0.0
            if event is None:
                break
            if event.job_id != self.job_id:
                continue
            if isinstance(event, Queued):
                self.listener.queued(event)
            elif isinstance(event, Snapshot):
                self.listener.snapshot(event)
            elif isinstance(event, Progress):
                self.listener.progress(event)
            else:
                self._end(event)
        return self.running

    def stop(self) -> None:
        """Stop and keep what has formed: the job then ends with a partial Result."""
        if self.running:
            self.client.stop(self.job_id)

    def cancel(self) -> None:
        """Stop and drop it; the job ends Cancelled (or with its Result, if it was just done)."""
        if self.running:
            self.client.cancel(self.job_id)

    def cancel_and_wait(self, timeout: float) -> bool:
        """Cancel, then wait up to ``timeout`` seconds until the server says the job is over; True if it did.
        For closing: the plug-in never leaves a job running on the server."""
        self.cancel()
        deadline = time.monotonic() + timeout
        while self.running and time.monotonic() < deadline:
            self.pump(wait=min(0.05, max(0.0, deadline - time.monotonic())))
        return not self.running

    def _end(self, outcome: Outcome) -> None:
        self.outcome = outcome
        self.listener.finished(outcome)
