"""The parts ``DreamServer`` holds: the worker's events on their way to the server's thread, and the job book."""

from __future__ import annotations

import inspect
import threading
from dataclasses import replace

import numpy as np
import zmq

from reverie.engine import DreamParams, dream
from reverie.serving.events import Cancelled, Dreamed, EventLink, Phase, Started, payload
from reverie.serving.job_book import JobBook
from reverie.serving.jobs import ENGINE_INPUTS, Job, Order
from reverie.serving.worker import JobQueue
from reverie_wire.images import Image
from reverie_wire.protocol import EXTRA_FRAMES, GUIDE, PREVIOUS, PREVIOUS_DREAM, PREVIOUS_SOURCE, STRENGTH


def test_events_arrive_in_order_with_their_pixels_not_copied() -> None:
    context = zmq.Context()
    link = EventLink(context, "inproc://test-events")
    pixels = np.arange(24, dtype=np.uint8).reshape(2, 4, 3)
    sent = [Phase("loading Keras"), Started(1), Dreamed(1, 7, None, 0.5, [], payload(pixels)), Cancelled(2)]

    def worker() -> None:
        sender = link.sender()
        for event in sent:
            sender.send(event)
        sender.close()

    thread = threading.Thread(target=worker)
    thread.start()
    received = []
    while len(received) < len(sent):
        assert link.wait(10.0), "the worker's events must wake the server's poller"
        while (event := link.receive()) is not None:
            received.append(event)
    thread.join()
    link.close()
    context.term()
    assert received == sent
    image = received[2].pixels
    assert len(image) == pixels.nbytes  # the outbox sizes a frame with len()
    assert np.shares_memory(np.frombuffer(image, dtype=np.uint8), pixels)


def job(serial: int, route: bytes, job_id: str) -> Job:
    return Job(serial, (route,), job_id, DreamParams(), Image(bytes(12), width=2, height=2, channels=3, dtype="u8"))


def test_the_book_keeps_arrival_order_and_says_where_an_ended_job_was() -> None:
    book = JobBook(JobQueue(limit=8, max_bytes=1 << 20))
    first, second = job(book.next_serial(), b"a", "1"), job(book.next_serial(), b"b", "1")
    assert book.add(first) == (0, 0)
    assert book.add(second) == (1, 1)
    third = job(book.next_serial(), b"a", "2")
    assert book.add(third) == (2, 2)
    assert (first.serial, second.serial, third.serial) == (1, 2, 3)
    assert book.get((b"b",), "1") is second and book.by_serial(3) is third
    assert book.of((b"a",)) == [first, third] and book.of_peer(b"a") == 2

    assert book.queue.take() is first  # the worker has it
    book.start(first)
    assert book.end(second, "cancelled") == 1
    assert book.end(second, "cancelled") is None  # ended once only
    assert list(book) == [first, third] and second not in book
    assert book.end(first, "done") == 0 and book.running is None
    assert book.counts == {"done": 1, "cancelled": 1, "failed": 0}


def test_a_running_job_past_its_time_is_cancelled_and_known_as_over_time() -> None:
    book = JobBook(JobQueue(limit=8, max_bytes=1 << 20))
    running = job(book.next_serial(), b"a", "1")
    book.add(running)
    book.start(running)
    book.stop_over_time(3600.0)
    assert not running.cancel.is_set() and not book.over_time(running)
    book.stop_over_time(-1.0)
    assert running.cancel.is_set() and book.over_time(running)
    book.end(running, "failed")
    assert not book.over_time(running)


def test_several_jobs_run_at_once_each_with_its_own_clock() -> None:
    """A cluster's front runs one job per dreamer: each is timed from its own start, and ends alone."""
    book = JobBook(JobQueue(limit=8, max_bytes=1 << 20))
    first, second, waiting = (job(book.next_serial(), b"a", str(n)) for n in range(3))
    for each in (first, second, waiting):
        book.add(each)
    book.start(first)
    book.start(second)
    assert book.running is first and book.running_count == 2 and book.running_jobs() == [first, second]
    assert book.is_running(second) and not book.is_running(waiting)
    assert book.running_since(first) <= book.running_since(second)
    book.stop_over_time(3600.0)
    assert not first.cancel.is_set() and not second.cancel.is_set()
    book.stop_over_time(-1.0)
    assert book.over_time(first) and book.over_time(second) and not waiting.cancel.is_set()
    assert book.end(first, "failed") == 0
    assert book.running is second and book.running_count == 1 and not book.over_time(first)
    book.end(second, "failed")
    assert book.running is None and book.running_jobs() == []


def test_every_extra_image_the_protocol_carries_reaches_the_engine_by_its_name() -> None:
    """Or, for a clip's previous frames, makes the image the dream starts from (``Job.start``)."""
    keywords = inspect.signature(dream).parameters
    assert set(ENGINE_INPUTS) | set(PREVIOUS) == set(EXTRA_FRAMES) and not set(ENGINE_INPUTS) & set(PREVIOUS)
    assert all(name in keywords for name in ENGINE_INPUTS)


def test_a_clips_frame_starts_from_the_previous_dream_and_another_from_its_source() -> None:
    source = np.full((16, 16, 3), 0.5, np.float32)
    brighter = Image(np.full(16 * 16 * 3, 200, np.uint8), 16, 16, 3, "u8")
    still = Image(np.full(16 * 16 * 3, 128, np.uint8), 16, 16, 3, "u8")
    order = Order(1, "j1", DreamParams(), Image(bytes(768), 16, 16, 3, "u8"))
    assert Job.of(order).start(source) is source
    clip = Job.of(replace(order, extras={PREVIOUS_SOURCE: still, PREVIOUS_DREAM: brighter}))
    assert clip.engine_inputs() == {}
    assert clip.start(source).mean() > 0.7  # the previous dream's change, carried onto an unmoved frame


def test_a_job_and_its_order_are_made_from_each_other_with_every_extra_image() -> None:
    guide = Image(np.full(2 * 3 * 3, 255, np.uint8), 2, 3, 3, "u8")
    strength = Image(np.zeros(4, np.float32), 2, 2, 1, "f32")
    order = Order(5, "j5", DreamParams(), Image(bytes(12), 2, 2, 3, "u8"), {GUIDE: guide, STRENGTH: strength})
    job = Job.of(order, (b"client",))
    assert job.order() == order and job.envelope == (b"client",)
    assert job.nbytes == 12 + 18 + 16
    inputs = job.engine_inputs()
    assert inputs[GUIDE].shape == (3, 2, 3) and inputs[GUIDE].max() == 1.0
    assert inputs[STRENGTH].shape == (2, 2)
