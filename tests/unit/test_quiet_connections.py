"""Which connection gives its slot to a newcomer when every slot is taken (``InflowGuard._make_room``)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import zmq

from reverie.serving import inflow
from reverie.serving.budget import MemoryBudget


@pytest.fixture
def guard(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[inflow.InflowGuard, list[int]]]:
    with zmq.Context() as context, context.socket(zmq.ROUTER) as router:
        watcher = inflow.InflowGuard(router, 1 << 20, 3, False, MemoryBudget(1 << 30))
        cut: list[int] = []
        monkeypatch.setattr(watcher, "_cut", cut.append)  # no descriptor to shut: these connections are made up
        yield watcher, cut
        watcher._monitor.close(linger=0)


def sitting(seconds: float) -> inflow._Connection:
    return inflow._Connection(last_message=time.monotonic() - seconds)


def test_the_connection_quiet_longest_gives_its_slot(guard: tuple[inflow.InflowGuard, list[int]]) -> None:
    watcher, cut = guard
    watcher._connections = {5: sitting(40), 6: sitting(90), 7: sitting(0)}
    assert watcher._make_room()
    assert cut == [6]


def test_a_connection_waiting_on_its_job_keeps_its_slot(guard: tuple[inflow.InflowGuard, list[int]]) -> None:
    watcher, cut = guard
    watcher._connections = {5: sitting(40), 6: sitting(90)}
    watcher.with_jobs = frozenset({6})
    assert watcher._make_room()
    assert cut == [5]
    watcher.with_jobs = frozenset({5, 6})
    cut.clear()
    assert not watcher._make_room()
    assert cut == []


def test_connections_quiet_for_less_than_the_limit_keep_their_slots(
    guard: tuple[inflow.InflowGuard, list[int]],
) -> None:
    watcher, cut = guard
    watcher._connections = {5: sitting(inflow.QUIET_SECONDS / 2), 6: sitting(1)}
    assert not watcher._make_room()
    assert cut == []
