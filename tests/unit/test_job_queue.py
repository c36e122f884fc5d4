"""The server's job queue: order, bounds (count and bytes), taking a queued job out, closing."""

from __future__ import annotations

import threading

import pytest

from reverie.engine import DreamParams
from reverie.serving.jobs import Job
from reverie.serving.worker import JobQueue
from reverie_wire.errors import Busy
from reverie_wire.images import Image


def job(serial: int, side: int = 10) -> Job:
    return Job(serial, (b"client",), f"job{serial}", DreamParams(), Image(bytes(side * side * 4), side, side, 4, "u8"))


def test_jobs_come_out_in_arrival_order() -> None:
    queue = JobQueue(limit=3, max_bytes=10**6)
    assert [queue.put(job(n)) for n in range(3)] == [0, 1, 2]
    assert [queue.take().serial for _ in range(3)] == [0, 1, 2]


def test_a_full_queue_is_busy() -> None:
    queue = JobQueue(limit=2, max_bytes=10**6)
    queue.put(job(1))
    queue.put(job(2))
    with pytest.raises(Busy, match="max_queue"):
        queue.put(job(3))
    assert len(queue) == 2


def test_queued_pixels_are_bounded_but_one_large_job_always_fits() -> None:
    queue = JobQueue(limit=10, max_bytes=1000)
    queue.put(job(1, side=20))  # 1600 bytes: alone, it is let in
    with pytest.raises(Busy, match="max_queue_bytes"):
        queue.put(job(2, side=5))
    queue.take()
    queue.put(job(3, side=5))
    assert len(queue) == 1


def test_a_queued_job_can_be_taken_out_but_not_a_taken_one() -> None:
    queue = JobQueue(limit=3, max_bytes=10**6)
    first, second = job(1), job(2)
    queue.put(first)
    queue.put(second)
    assert queue.take() is first
    assert queue.remove(first) is False
    assert queue.remove(second) is True
    assert len(queue) == 0


def test_take_waits_for_a_job_and_close_releases_a_waiting_worker() -> None:
    queue = JobQueue(limit=3, max_bytes=10**6)
    taken: list[Job | None] = []
    first = threading.Thread(target=lambda: taken.append(queue.take()))
    first.start()
    queue.put(job(1))
    first.join(5)
    assert [got.serial for got in taken] == [1]
    second = threading.Thread(target=lambda: taken.append(queue.take()))
    second.start()
    assert queue.close() == []
    second.join(5)
    assert not second.is_alive() and taken[-1] is None


def test_close_hands_back_the_waiting_jobs() -> None:
    queue = JobQueue(limit=3, max_bytes=10**6)
    waiting = [job(1), job(2)]
    for queued in waiting:
        queue.put(queued)
    assert queue.close() == waiting
    assert queue.take() is None
