"""The cluster front's dispatcher without a cluster: what it does when every dreamer is gone."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("ray", reason="the cluster's dispatcher imports Ray (pip install 'reverie[cluster]')")

from reverie.cluster.dispatch import NO_DREAMER_SECONDS, AgainQueue, ClusterWorker
from reverie.cluster.settings import ClusterSettings
from reverie.engine import DreamParams
from reverie.serving.events import Event, Failed
from reverie.serving.jobs import Job
from reverie_wire.images import Image


class Pool:
    def __init__(self) -> None:
        self.states = {"dreamer-0": "lost", "dreamer-1": "failed"}

    def alive(self) -> bool:
        return any(state in ("loading", "ready", "busy") for state in self.states.values())

    def describe(self) -> list[dict[str, Any]]:
        return [{"name": name, "state": state} for name, state in self.states.items()]


class Link:
    def __init__(self) -> None:
        self.sent: list[Event] = []

    def send(self, event: Event) -> None:
        self.sent.append(event)


def test_jobs_waiting_while_every_dreamer_is_gone_end_with_an_error_that_says_so() -> None:
    queue = AgainQueue(4, 10**9)
    queue.put(Job(7, (b"client",), "j7", DreamParams(model="mobilenet"), Image(bytes(3), 1, 1, 3, "u8")))
    worker = ClusterWorker(None, queue, ClusterSettings("auto"), (), None)
    pool = worker.pool = Pool()
    link = Link()
    since = worker.give_up_without_dreamers(link, None, 100.0)
    assert since == 100.0
    assert worker.give_up_without_dreamers(link, since, 100.0 + NO_DREAMER_SECONDS - 1) == since
    assert not link.sent and len(queue) == 1, "Ray may yet restart one: the job waits"
    worker.give_up_without_dreamers(link, since, 100.0 + NO_DREAMER_SECONDS)
    assert len(queue) == 0 and [type(sent) for sent in link.sent] == [Failed]
    (failed,) = link.sent
    assert isinstance(failed, Failed) and (failed.serial, failed.code) == (7, "internal")
    assert "dreamer-0 lost, dreamer-1 failed" in failed.message
    pool.states["dreamer-0"] = "loading"  # Ray restarted it: the clock starts again once none is left
    assert worker.give_up_without_dreamers(link, since, 1000.0) is None
