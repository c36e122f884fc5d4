"""The dreamers and which of them is free: a job goes only to a dreamer that has nothing to do."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import ray

log = logging.getLogger("reverie.cluster")

# What a dreamer is doing, as ``hello`` shows it.
LOADING, READY, BUSY, LOST, FAILED = "loading", "ready", "busy", "lost", "failed"
# How often a dreamer Ray is restarting is asked whether it is back.
RESTART_POLL_SECONDS = 1.0


@dataclass(eq=False)
class Dreamer:
    """The front's view of one dreamer actor."""

    number: int
    actor: Any
    state: str = LOADING
    facts: dict[str, Any] = field(default_factory=dict)
    job: str | None = None
    jobs_done: int = 0
    free_since: float = 0.0

    @property
    def name(self) -> str:
        return f"dreamer-{self.number}"

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "state": self.state,
            "host": self.facts.get("host"),
            "node": self.facts.get("node"),
            "pid": self.facts.get("pid"),
            "device": self.facts.get("device"),
            "running": self.job,
            "jobs_done": self.jobs_done,
        }


class Pool:
    """Hands out free dreamers; a lost one is waited for in the background (Ray restarts it) and free again once its
    model is loaded."""

    def __init__(self, actors: list[Any], on_first_ready: Any, on_all_failed: Any) -> None:
        self.dreamers = [Dreamer(number, actor) for number, actor in enumerate(actors)]
        self._changed = threading.Condition()
        self._closed = False
        self._stopping = threading.Event()  # set with _closed, for the threads that wait on Ray
        self._on_first_ready = on_first_ready
        self._on_all_failed = on_all_failed
        self._told_ready = False
        for dreamer in self.dreamers:
            self._await(dreamer)

    def _await(self, dreamer: Dreamer) -> None:
        """Wait, on a thread of its own, for the dreamer's model to be loaded (at start, or after Ray restarted it)."""

        def wait() -> None:
            while True:
                try:
                    facts = ray.get(dreamer.actor.facts.remote())
                    break
                except ray.exceptions.ActorUnavailableError:  # Ray is restarting it: ask again in a while
                    if self._stopping.wait(RESTART_POLL_SECONDS):
                        return
                except ray.exceptions.RayError as error:  # restarts used up, or the cluster went away
                    facts = {"type": "failed", "code": "internal", "message": f"{dreamer.name} cannot start: {error}"}
                    break
            with self._changed:
                dreamer.facts = facts
                dreamer.state = READY if facts["type"] == "ready" else FAILED
                log.info("%s on %s: %s", dreamer.name, facts.get("host"), facts.get("device") or facts.get("message"))
                first = dreamer.state == READY and not self._told_ready
                self._told_ready = self._told_ready or first
                all_failed = all(each.state == FAILED for each in self.dreamers)
                self._changed.notify_all()
            if first:
                self._on_first_ready(dreamer)
            elif all_failed and not self._told_ready:
                self._on_all_failed(facts)

        threading.Thread(target=wait, name=f"reverie-{dreamer.name}-loading", daemon=True).start()

    def wait_free(self) -> bool:
        """Wait until a dreamer is free; False once closed."""
        with self._changed:
            self._changed.wait_for(lambda: self._closed or any(each.state == READY for each in self.dreamers))
            return not self._closed

    def take(self, job_id: str) -> Dreamer | None:
        """A free dreamer, now busy with ``job_id``, waiting for one; None once closed."""
        with self._changed:
            while self.wait_free():
                # the one free longest: jobs sent one after another take turns, so every dreamer stays warm
                dreamer = min((each for each in self.dreamers if each.state == READY), key=lambda each: each.free_since)
                dreamer.state, dreamer.job = BUSY, job_id
                return dreamer
            return None

    def free(self, dreamer: Dreamer) -> None:
        with self._changed:
            if dreamer.state == BUSY:
                dreamer.state, dreamer.job, dreamer.free_since = READY, None, time.monotonic()
                dreamer.jobs_done += 1
            self._changed.notify_all()

    def lost(self, dreamer: Dreamer) -> None:
        """The dreamer died mid-job (its node went, or its process): free again once Ray has restarted it."""
        with self._changed:
            if dreamer.state == LOST:
                return
            dreamer.state, dreamer.job = LOST, None
        log.warning("%s on %s was lost; waiting for Ray to restart it", dreamer.name, dreamer.facts.get("host"))
        self._await(dreamer)

    def alive(self) -> bool:
        """Whether any dreamer is loading, ready or busy (one may yet take a job)."""
        with self._changed:
            return any(dreamer.state in (LOADING, READY, BUSY) for dreamer in self.dreamers)

    def working(self) -> int:
        with self._changed:
            return sum(dreamer.state in (READY, BUSY) for dreamer in self.dreamers)

    def close(self) -> None:
        with self._changed:
            self._closed = True
            self._stopping.set()
            self._changed.notify_all()

    def describe(self) -> list[dict[str, Any]]:
        with self._changed:
            return [dreamer.describe() for dreamer in self.dreamers]
