"""The octave loop's order of work: a device stepper's next step is queued before the last loss is read; a
whole-octave stepper runs chunks of steps, with progress after each and cancelling asked between them."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import pytest

from reverie.engine.backends.base import TilePolicy
from reverie.engine.octave_ascent import _Ascent, _Tally
from reverie.engine.params import DreamParams
from reverie.engine.results import Progress
from reverie.engine.tile_planner import TilePlanner
from reverie_wire.errors import DreamCancelled


class FakeOutOfMemory(RuntimeError):
    pass


@dataclass
class Loss:
    """A device scalar stand-in: reading it is when a device reports its errors."""

    value: float
    events: list[str]
    fail: bool = False

    def __float__(self) -> float:
        self.events.append(f"read {self.value:g}")
        if self.fail:
            raise FakeOutOfMemory("RESOURCE_EXHAUSTED: out of memory")
        return self.value


@dataclass
class CountingStepper:
    """The state is the number of steps taken; a step's loss is the state it leads to."""

    asynchronous: bool
    events: list[str]
    failing_reads: set[int] = field(default_factory=set)
    tiles: int = 4
    shape: tuple[int, int] = (8, 8)

    def step(self, state: int, shift: tuple[int, int]) -> tuple[object, int]:
        self.events.append(f"step {state + 1}")
        fail = state + 1 in self.failing_reads
        self.failing_reads.discard(state + 1)
        loss = Loss(float(state + 1), self.events, fail) if self.asynchronous else float(state + 1)
        return loss, state + 1


class FakeBackend:
    """Only what the octave loop asks of a backend: new steppers."""

    def __init__(self, stepper: CountingStepper, whole: ChunkedStepper | None) -> None:
        self.stepper, self.whole, self.made = stepper, whole, 0

    def tiled_stepper(self, *args: object) -> CountingStepper:
        self.made += 1
        return self.stepper

    def octave_stepper(self, *args: object) -> ChunkedStepper | None:
        return self.whole


ROOMS = {(8, 8): (8, 8)}  # the one octave these tests run, as large as the picture


class FakeModel:
    """A backend's stand-in beside a real tile planner: 8 tiles at once, and whole octaves up to 128²."""

    def __init__(self, stepper: CountingStepper, whole: ChunkedStepper | None = None) -> None:
        self.backend = FakeBackend(stepper, whole)
        policy = TilePolicy(fixed=False, tile=None, batch=8, bucket_pixels=128 * 128)
        self.tiles = TilePlanner(policy, lambda shape: (128, 128), lambda error: isinstance(error, FakeOutOfMemory))


@dataclass
class ChunkedStepper:
    """A whole-octave stand-in: the state is the number of steps taken, a step's loss the state it leads to."""

    events: list[str]
    per_call: int
    max_loss: float | None = None
    fail_at: int | None = None  # the first step of the call that runs out of memory
    tiles: int = 1
    shape: tuple[int, int] = (8, 8)
    padded_shape: tuple[int, int] = (128, 128)

    def chunk(self, remaining: int) -> int:
        return min(self.per_call, remaining)

    def advance(self, state: int, first: int, count: int) -> tuple[int, list[float]]:
        assert state == first - 1
        self.events.append(f"call {first}+{count}")
        if first == self.fail_at:
            raise FakeOutOfMemory("RESOURCE_EXHAUSTED: out of memory")
        losses = []
        for step in range(first, first + count):
            losses.append(float(step))
            if self.max_loss is not None and step > self.max_loss:
                break
        return state + len(losses), losses


def run(asynchronous: bool, steps: int = 4, max_loss: float | None = None, failing_reads: tuple[int, ...] = ()):
    events: list[str] = []
    model = FakeModel(CountingStepper(asynchronous, events, set(failing_reads)))
    params = DreamParams(steps=steps, max_loss=max_loss)
    progress: list[Progress] = []
    tally = _Tally(params, 1, progress.append)
    ascent = _Ascent(model, None, params, 0, None, 0, lambda reach: (0, 0), ROOMS)  # type: ignore[arg-type]
    state = ascent.octave(1, (8, 8), 0, tally)
    return state, tally, events, progress, model


def run_whole(
    steps: int,
    per_call: int,
    max_loss: float | None = None,
    fail_at: int | None = None,
    cancel_after: int = 0,
    progress: list[Progress] | None = None,
) -> tuple[int, _Tally, list[str], list[Progress], FakeModel]:
    events: list[str] = []
    whole = ChunkedStepper(events, per_call, max_loss, fail_at)
    model = FakeModel(CountingStepper(False, events), whole)
    params = DreamParams(steps=steps, max_loss=max_loss)
    progress = [] if progress is None else progress
    tally = _Tally(params, 1, progress.append)
    asked: list[int] = []

    def should_cancel() -> bool:
        asked.append(len(progress))
        return bool(cancel_after) and len(progress) >= cancel_after

    ascent = _Ascent(model, None, params, 0, should_cancel, 0, lambda reach: (0, 0), ROOMS)  # type: ignore[arg-type]
    state = ascent.octave(1, (8, 8), 0, tally)
    return state, tally, events, progress, model


def test_a_device_step_is_queued_before_the_last_loss_is_read() -> None:
    state, tally, events, progress, _ = run(asynchronous=True)
    assert events == ["step 1", "step 2", "read 1", "step 3", "read 2", "step 4", "read 3", "read 4"]
    assert state == 4 and tally.losses == [1, 2, 3, 4]
    assert [p.step for p in progress] == [1, 2, 3, 4] and progress[-1].fraction == 1.0


def test_a_host_step_is_read_at_once() -> None:
    state, tally, events, _, _ = run(asynchronous=False)
    assert events == ["step 1", "step 2", "step 3", "step 4"]
    assert state == 4 and tally.losses == [1, 2, 3, 4]


@pytest.mark.parametrize("asynchronous", [True, False])
def test_max_loss_keeps_the_step_that_passed_it_and_drops_the_queued_one(asynchronous: bool) -> None:
    state, tally, events, progress, _ = run(asynchronous, steps=6, max_loss=2.5)
    assert state == 3 and tally.losses == [1, 2, 3]
    assert tally.done == 6 and [p.step for p in progress] == [1, 2, 3]
    assert events.count("step 4") == asynchronous  # queued behind step 3 on a device, then dropped


def test_out_of_memory_reported_at_reading_runs_the_step_again_smaller(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="reverie.engine.tile_planner"):
        state, tally, events, _, model = run(asynchronous=True, failing_reads=(2,))
    assert events[:6] == ["step 1", "step 2", "read 1", "step 3", "read 2", "step 2"]  # step 2 again, from 1
    assert events[6:8] == ["read 2", "step 3"]  # the queued step 3 follows the new step 2
    assert state == 4 and tally.losses == [1, 2, 3, 4]
    assert model.backend.made == 2 and model.tiles.plan(DreamParams()).batch == 4
    assert "going on with 4 tile(s)" in caplog.text


def test_a_whole_octave_runs_in_chunks_with_progress_for_every_step() -> None:
    state, tally, events, progress, _ = run_whole(steps=7, per_call=3)
    assert events == ["call 1+3", "call 4+3", "call 7+1"]
    assert state == 7 and tally.losses == [1, 2, 3, 4, 5, 6, 7]
    assert [p.step for p in progress] == [1, 2, 3, 4, 5, 6, 7] and progress[-1].fraction == 1.0


def test_cancelling_is_asked_between_chunks() -> None:
    progress: list[Progress] = []
    with pytest.raises(DreamCancelled):
        run_whole(steps=20, per_call=4, cancel_after=5, progress=progress)
    assert len(progress) == 8  # asked before each call, after 0, 4 and 8 steps: the chunk under way finishes


def test_a_whole_octave_stops_at_max_loss_within_a_chunk() -> None:
    state, tally, events, progress, _ = run_whole(steps=10, per_call=4, max_loss=5.5)
    assert events == ["call 1+4", "call 5+4"]
    assert state == 6 and tally.losses == [1, 2, 3, 4, 5, 6]
    assert tally.done == 10 and [p.step for p in progress] == [1, 2, 3, 4, 5, 6]


def test_out_of_memory_on_a_whole_octave_goes_on_with_tiles_from_the_same_step(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="reverie.engine.tile_planner"):
        state, tally, events, _, model = run_whole(steps=6, per_call=2, fail_at=3)
    assert events == ["call 1+2", "call 3+2", "step 3", "step 4", "step 5", "step 6"]
    assert state == 6 and tally.losses == [1, 2, 3, 4, 5, 6]
    assert not model.tiles.plan(DreamParams()).whole((8, 8)) and model.backend.made == 1
    assert "going on with tiles" in caplog.text


def test_a_whole_octave_s_progress_can_show_the_image_its_chunk_left() -> None:
    _, _, _, progress, _ = run_whole(steps=5, per_call=2)
    assert all(p.image is not None for p in progress)  # snapshots and stop-and-keep read it
