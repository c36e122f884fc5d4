"""Following a job from GIMP's main loop: a scripted client stands in for the socket."""

from __future__ import annotations

from collections import deque
from typing import Any

from reverie_plugin.live import FollowedJob
from reverie_wire.client import Cancelled, Progress, Queued, Result, Snapshot
from reverie_wire.errors import ReverieError

RESULT = Result("job", b"\x09" * 12, 2, 2, 3, "u8", 99, 1.5, 1.0, [])
SHOT = Snapshot("job", b"\x01" * 12, 2, 2, 1, 2, 1, 20, 0.025, False)
STEP = Progress("job", 0.05, 1, 2, 2, 20, 1)
WAITING = Queued("job", 2)


class ScriptedClient:
    """poll() hands out the scripted events (None: nothing yet) and records how long it was told to wait."""

    def __init__(self, *events: Any) -> None:
        self.events = deque(events)
        self.waits: list[float] = []
        self.sent: list[tuple[str, str]] = []

    def poll(self, timeout: float = 0.0) -> Any:
        self.waits.append(timeout)
        event = self.events.popleft() if self.events else None
        if isinstance(event, ReverieError):
            raise event
        return event

    def stop(self, job: str) -> None:
        self.sent.append(("stop", job))

    def cancel(self, job: str) -> None:
        self.sent.append(("cancel", job))


class Recorder:
    def __init__(self) -> None:
        self.seen: list[Any] = []

    def queued(self, event: Queued) -> None:
        self.seen.append(event)

    def snapshot(self, event: Snapshot) -> None:
        self.seen.append(event)

    def progress(self, event: Progress) -> None:
        self.seen.append(event)

    def finished(self, outcome: Any) -> None:
        self.seen.append(("finished", outcome))


def test_pump_hands_on_what_has_arrived_without_waiting() -> None:
    client, listener = ScriptedClient(WAITING, STEP, SHOT, None, RESULT), Recorder()
    job = FollowedJob(client, "job", listener)
    assert job.pump() is True  # three events, then nothing yet: it returns instead of waiting
    assert listener.seen == [WAITING, STEP, SHOT] and client.waits == [0.0, 0.0, 0.0, 0.0]
    assert job.pump() is False
    assert listener.seen[-1] == ("finished", RESULT) and job.outcome is RESULT


def test_events_and_errors_of_another_job_are_dropped() -> None:
    other = Cancelled("old-preview")
    client, listener = ScriptedClient(other, ReverieError("boom", "old-preview"), STEP, None), Recorder()
    job = FollowedJob(client, "job", listener)
    assert job.pump() is True
    assert listener.seen == [STEP]


def test_its_own_error_ends_it() -> None:
    failure = ReverieError("boom", "job")
    client, listener = ScriptedClient(failure), Recorder()
    job = FollowedJob(client, "job", listener)
    assert job.pump() is False and job.outcome is failure


def test_stop_keeps_and_cancel_drops_only_while_running() -> None:
    client = ScriptedClient()
    job = FollowedJob(client, "job", Recorder())
    job.stop()
    job.cancel()
    assert client.sent == [("stop", "job"), ("cancel", "job")]
    job.outcome = RESULT
    job.stop()
    assert len(client.sent) == 2


def test_closing_cancels_and_waits_for_the_servers_answer() -> None:
    client = ScriptedClient(None, STEP, Cancelled("job"))
    job = FollowedJob(client, "job", Recorder())
    assert job.cancel_and_wait(5.0) is True
    assert client.sent == [("cancel", "job")] and isinstance(job.outcome, Cancelled)
    assert all(0 < wait <= 0.05 for wait in client.waits[:2])
