"""One octave's steps as a stream of finished steps, for the octave loop to read like the algorithm: here
are the device's pipelining (the next step queued before the last loss is read), the replay of a step with
smaller tiles when the device runs out of memory, and a whole octave's chunks going on with tiles."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from reverie.engine.backends.base import ChunkedStepper, Stepper
from reverie_wire.errors import DreamCancelled

CancelFn = Callable[[], bool]


@dataclass(frozen=True)
class Step:
    """A step done: its number (from 1), loss, the image after it (after its chunk, where steps run in
    chunks) and how many tiles it took."""

    number: int
    loss: float
    image: Any
    tiles: int


@dataclass(frozen=True)
class Dispatched:
    """A step handed to a stepper; on a device its loss may not be computed yet."""

    before: Any
    shift: tuple[int, int]
    loss: Any
    after: Any


def _check_cancel(should_cancel: CancelFn | None) -> None:
    if should_cancel is not None and should_cancel():
        raise DreamCancelled("the dream was cancelled")


class Replaying:
    """A tiled stepper that outlives the device running out of memory: ``shrink`` makes the tiles smaller
    (or re-raises the error), and the step runs again on a stepper that ``make`` builds with them."""

    def __init__(self, make: Callable[[], Stepper], shrink: Callable[[Exception], None]) -> None:
        self._make = make
        self._shrink = shrink
        self._stepper = make()

    @property
    def tiles(self) -> int:
        return self._stepper.tiles

    @property
    def asynchronous(self) -> bool:
        return self._stepper.asynchronous

    def step(self, image: Any, shift: tuple[int, int]) -> Dispatched:
        while True:
            try:
                loss, after = self._stepper.step(image, shift)
                return Dispatched(image, shift, loss, after)
            except Exception as error:
                self._smaller(error)

    def read(self, dispatched: Dispatched) -> tuple[float, Dispatched]:
        """The step's loss, waiting for the device. A device may report running out of memory only now:
        then the step runs again with smaller tiles, and the returned step is that run."""
        while True:
            try:
                return float(dispatched.loss), dispatched
            except Exception as error:
                self._smaller(error)
                dispatched = self.step(dispatched.before, dispatched.shift)

    def _smaller(self, error: Exception) -> None:
        self._shrink(error)
        self._stepper = self._make()


def pipelined(
    stepper: Replaying,
    image: Any,
    first: int,
    last: int,
    shift: Callable[[], tuple[int, int]],
    should_cancel: CancelFn | None,
) -> Iterator[Step]:
    """Steps ``first`` to ``last``, each jittered by a new ``shift()``, cancelling asked before each. An
    asynchronous (device) stepper gets the next step before the last one's loss is read, so the device never
    waits for the host; when the reader stops after a step, the one queued behind it is dropped."""
    unread: Dispatched | None = None
    for number in range(first, last + 1):
        _check_cancel(should_cancel)
        queued = stepper.step(image, shift())
        if unread is not None:
            loss, done = stepper.read(unread)
            if done is not unread:  # it ran again: the queued step must start from its result
                queued = stepper.step(done.after, queued.shift)
            yield Step(number - 1, loss, done.after, stepper.tiles)
        if stepper.asynchronous:
            unread, image = queued, queued.after
        else:
            loss, done = stepper.read(queued)
            yield Step(number, loss, done.after, stepper.tiles)
            image = done.after
    if unread is not None:
        loss, done = stepper.read(unread)
        yield Step(last, loss, done.after, stepper.tiles)


def chunked(stepper: ChunkedStepper, image: Any, last: int, should_cancel: CancelFn | None) -> Iterator[Step]:
    """Steps 1 to ``last`` of a whole octave, a chunk per call, cancelling asked before each chunk; each step
    of a chunk comes with the image the chunk left. The stepper stops at the dream's max_loss itself."""
    number = 1
    while number <= last:
        _check_cancel(should_cancel)
        image, losses = stepper.advance(image, number, stepper.chunk(last - number + 1))
        for loss in losses:
            yield Step(number, loss, image, stepper.tiles)
            number += 1


def whole_then_tiles(
    whole: ChunkedStepper,
    image: Any,
    last: int,
    should_cancel: CancelFn | None,
    out_of_memory: Callable[[Exception], None],
    tiles: Callable[[Any, int], Iterator[Step]],
) -> Iterator[Step]:
    """A whole octave's steps in chunks; when its image runs out of device memory, ``out_of_memory`` sends
    octaves as large to tiles (or re-raises the error), and ``tiles`` goes on from the step that failed."""
    first = 1
    try:
        for step in chunked(whole, image, last, should_cancel):
            yield step
            image, first = step.image, step.number + 1
    except Exception as error:
        out_of_memory(error)
        yield from tiles(image, first)
