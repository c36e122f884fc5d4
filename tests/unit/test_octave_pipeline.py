"""The octave loop's order of work: a device stepper's next step is queued before the last loss is read."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import pytest

from reverie.engine.octave_ascent import _Ascent, _Tally
from reverie.engine.params import DreamParams
from reverie.engine.results import Progress


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


@dataclass
class Plan:
    batch: int
    tile: int = 512
    fixed: bool = False

    def layout(self, height: int, width: int, smallest: int) -> None:
        return None


class FakeModel:
    """Only what the octave loop asks of a model: tile plans, shrinking, and new steppers."""

    def __init__(self, stepper: CountingStepper) -> None:
        self.stepper, self.batch, self.made = stepper, 8, 0

    def tile_plan(self, params: DreamParams) -> Plan:
        return Plan(self.batch)

    def shrink_tiles(self, plan: Plan) -> bool:
        self.batch //= 2
        return self.batch > 0

    def is_out_of_memory(self, error: BaseException) -> bool:
        return isinstance(error, FakeOutOfMemory)

    def device_stepper(self, *args: object) -> CountingStepper:
        self.made += 1
        return self.stepper


def run(asynchronous: bool, steps: int = 4, max_loss: float | None = None, failing_reads: tuple[int, ...] = ()):
    events: list[str] = []
    model = FakeModel(CountingStepper(asynchronous, events, set(failing_reads)))
    params = DreamParams(steps=steps, max_loss=max_loss)
    progress: list[Progress] = []
    tally = _Tally(params, 1, progress.append)
    ascent = _Ascent(model, None, params, 0, None)  # type: ignore[arg-type]
    state = ascent.octave(1, ascent.stepper((8, 8)), 0, lambda reach: (0, 0), tally)
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
    with caplog.at_level(logging.WARNING, logger="reverie.engine.octave_ascent"):
        state, tally, events, _, model = run(asynchronous=True, failing_reads=(2,))
    assert events[:6] == ["step 1", "step 2", "read 1", "step 3", "read 2", "step 2"]  # step 2 again, from 1
    assert events[6:8] == ["read 2", "step 3"]  # the queued step 3 follows the new step 2
    assert state == 4 and tally.losses == [1, 2, 3, 4]
    assert model.made == 2 and model.batch == 4
    assert "retrying with 4 tile(s)" in caplog.text
