"""What ``reverie start`` prints while it waits for the server to load: each phase the server reports
(``hello``'s ``phase``: downloading weights, building the model, compiling) once, with the seconds since
the start, and a download's progress every few seconds."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TextIO

# A download's progress is printed this often.
DOWNLOAD_REPORT_INTERVAL = 5.0
# What a server process does before it answers: Python and its imports.
STARTING = "starting the server process"


class StartReport:
    """Prints the loading server's phases to ``out`` as they change."""

    def __init__(self, out: TextIO, clock: Callable[[], float] = time.monotonic) -> None:
        self._out = out
        self._clock = clock
        self._started = clock()
        self._phase: str | None = None
        self._download_reported = 0.0

    def elapsed(self) -> float:
        return self._clock() - self._started

    def update(self, facts: dict[str, Any] | None) -> None:
        """Take the facts of one probe (None while the server does not answer: not yet, or no more)."""
        if facts is None and self._phase is not None:
            return  # it answered before: it is stopping, and its exit will say why
        phase = STARTING if facts is None else facts.get("phase")  # servers before 'phase' have none
        if phase is None:
            return
        now = self.elapsed()
        download = facts.get("download") if facts is not None else None
        if phase != self._phase:
            self._phase, self._download_reported = phase, now
            self._print(now, f"{phase}…")
        elif download and now - self._download_reported >= DOWNLOAD_REPORT_INTERVAL:
            self._download_reported = now
            self._print(now, f"{phase}: {download['done'] / 1e6:.0f} of {download['total'] / 1e6:.0f} MB")

    def _print(self, elapsed: float, text: str) -> None:
        print(f"  {elapsed:4.0f} s  {text}", file=self._out, flush=True)
