"""Octave gradient ascent, the DeepDream loop itself: octaves from small to full size, gradient steps on
each, the detail lost in shrinking put back between them. How a step runs (tiles, a device, memory running
out) is the steppers' business (see ``stepping`` and ``backends``)."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Generic

import numpy as np

from reverie.engine.backends.base import GradientT, Stepper, TiledOctave, WholeOctave
from reverie.engine.colours import keep_colours
from reverie.engine.eta import TimeLeft
from reverie.engine.loading import DreamModel
from reverie.engine.octaves import octave_rooms, octave_shapes, resize
from reverie.engine.params import DreamParams
from reverie.engine.results import DreamResult, ImageView, Progress, image_view
from reverie.engine.small_images import brought_back, enlarged_note, enlarged_shape, working_note
from reverie.engine.stepping import CancelFn, Replaying, Step, pipelined, whole_then_tiles
from reverie.engine.strength import check_strength, painted, strength_at
from reverie_wire.errors import BadRequest, DreamCancelled
from reverie_wire.pattern import working_scale, working_shape
from reverie_wire.ranges import MAX_SEED

ProgressFn = Callable[[Progress], None]


def _check_image(image: np.ndarray) -> None:
    if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3:
        raise BadRequest(f"the engine takes an H×W×3 RGB array, got {getattr(image, 'shape', type(image))}")
    if image.dtype != np.float32:
        raise BadRequest(f"the engine takes float32 pixels, got {image.dtype}")
    if not np.isfinite(image).all():
        raise BadRequest("the image holds NaN or infinite values")


@dataclass
class _Tally:
    """The dream's losses and progress across its octaves."""

    params: DreamParams
    octaves: int
    progress: ProgressFn | None
    time_left: TimeLeft | None = None
    losses: list[float] = field(default_factory=list)
    done: int = 0

    def record(self, octave: int, step: int, tiles: int, loss: float, image: ImageView | None = None) -> bool:
        """Record a step's loss; False when it passed max_loss and ends the octave."""
        steps = self.params.steps
        self.losses.append(loss)
        self.done += 1
        stopped = self.params.max_loss is not None and loss > self.params.max_loss
        if self.progress is not None:
            fraction = self.done / (self.octaves * steps)
            ends = stopped or step == steps
            left = None
            if self.time_left is not None:  # a step stopped at max_loss is its octave's last
                left = self.time_left.after(octave, steps if stopped else step, time.perf_counter())
            self.progress(Progress(octave, self.octaves, step, steps, fraction, tiles, loss, image, ends, left))
        if stopped:
            self.done += steps - step
            return False
        return True


@dataclass(frozen=True)
class _Ascent(Generic[GradientT]):
    """One dream's gradient ascent, an octave at a time."""

    model: DreamModel[GradientT]
    gradient_fn: GradientT
    params: DreamParams
    min_side: int  # the layers' smallest input: no tile is smaller
    should_cancel: CancelFn | None
    seed: int
    jitter: Callable[[int], tuple[int, int]]  # a step's random roll, each way within a reach
    rooms: dict[tuple[int, int], tuple[int, int]]  # each octave's room (see ``octaves.octave_rooms``)
    strength: np.ndarray | None = None  # the painted strength map, any size (see ``strength``)

    def padded(self, shape: tuple[int, int]) -> tuple[int, int]:
        """The shape a device keeps an octave of ``shape`` in, as the tile plan says now."""
        return self.model.tiles.plan(self.params).padded(shape, self.rooms[shape])

    def pixels(self, shape: tuple[int, int]) -> int:
        """The pixels one step of an octave of ``shape`` computes as the tile plan says now: its padded whole
        image, or its tiles (overlaps counted twice)."""
        plan = self.model.tiles.plan(self.params)
        if plan.whole(self.rooms[shape]):
            height, width = self.padded(shape)
            return height * width
        layout = plan.layout(*shape, self.min_side)
        return layout.count * layout.tile_height * layout.tile_width

    def kind(self, shape: tuple[int, int], gradient: Hashable) -> Hashable:
        """What decides how long a step of an octave of ``shape`` takes (see ``eta``): the ``gradient`` asked
        for, the shapes it runs on as the tile plan says now, and a strength map's work on the host."""
        plan = self.model.tiles.plan(self.params)
        if plan.whole(self.rooms[shape]):
            return gradient, "whole", self.padded(shape), self.strength is not None
        layout = plan.layout(*shape, self.min_side)
        shapes = (layout.count, layout.tile_height, layout.tile_width, plan.batch)
        return gradient, "tiles", shapes, self.strength is not None

    def octave(self, number: int, shape: tuple[int, int], image: Any, tally: _Tally) -> Any:
        """Gradient ascent on one octave's image; the tally records each step's loss and may end it early."""
        for step in self._steps(number, shape, image):
            image = step.image
            if not tally.record(number, step.number, step.tiles, step.loss, image_view(image, shape)):
                break
        return image

    def _steps(self, number: int, shape: tuple[int, int], image: Any) -> Iterator[Step]:
        """The octave's steps: on its whole image where the backend has a loop for it and the plan allows, else
        over tiles."""
        whole = None
        if self.model.tiles.plan(self.params).whole(self.rooms[shape]):
            octave = WholeOctave(self.params, shape, self.padded(shape), self.seed, number, self._strength(shape))
            whole = self.model.backend.octave_stepper(self.gradient_fn, octave)
        if whole is None:
            return self._tiled(shape, image, 1)
        out_of_memory = partial(self._out_of_memory, whole=whole.padded_shape)
        tiled = partial(self._tiled, shape)
        return whole_then_tiles(whole, image, self.params.steps, self.should_cancel, out_of_memory, tiled)

    def _tiled(self, shape: tuple[int, int], image: Any, first: int) -> Iterator[Step]:
        stepper = Replaying(partial(self._tiled_stepper, shape), self._out_of_memory)
        return pipelined(stepper, image, first, self.params.steps, self._shift, self.should_cancel)

    def _tiled_stepper(self, shape: tuple[int, int]) -> Stepper:
        plan = self.model.tiles.plan(self.params)
        layout = plan.layout(*shape, self.min_side)
        octave = TiledOctave(self.params, shape, layout, plan.batch, self.should_cancel, self._strength(shape))
        return self.model.backend.tiled_stepper(self.gradient_fn, octave)

    def _strength(self, shape: tuple[int, int]) -> np.ndarray | None:
        """The painted map at an octave's shape, or None."""
        return None if self.strength is None else strength_at(self.strength, shape)

    def _shift(self) -> tuple[int, int]:
        return self.jitter(self.model.tiles.plan(self.params).reach(self.params.jitter))

    def _out_of_memory(self, error: Exception, whole: tuple[int, int] | None = None) -> None:
        self.model.tiles.out_of_memory(error, self.params, whole=whole)


def dream(
    image: np.ndarray,
    params: DreamParams,
    model: DreamModel[Any],
    progress: ProgressFn | None = None,
    should_cancel: CancelFn | None = None,
    guide: np.ndarray | None = None,
    strength: np.ndarray | None = None,
) -> DreamResult:
    """Dream on an H×W×3 float32 image in [0, 1]; returns the same shape. With a ``guide`` (H×W×3 float32 in
    [0, 1], any size) the dream grows the guide's motifs (see ``objective.make_guided_objective``). An image
    under the layers' smallest input is dreamed enlarged, one over its pattern size shrunk, and the dream's change
    brought back to its size (see ``small_images``).
    With a ``strength`` map (H×W float32 in [0, 1], any size) each step is scaled by it per pixel, and the
    result is the source wherever it is 0 (see ``strength``).

    ``should_cancel`` is asked before every gradient step (and between tile batches within a step on the
    host), so a job stops within one step; where a device runs several steps per call, before each call,
    which lasts about a quarter of a second.
    """
    started = time.perf_counter()
    _check_image(image)
    if guide is not None:
        _check_image(guide)
    if strength is not None:
        check_strength(strength)
    if params.model != model.spec.name and params.model not in model.spec.aliases:
        raise BadRequest(f"this engine has {model.spec.name} loaded, not {params.model}")
    layers = params.layer_weights()
    seed = params.seed if params.seed is not None else secrets.randbelow(MAX_SEED + 1)
    rng = np.random.default_rng(seed)
    min_side = model.min_side(tuple(layers))
    height, width = image.shape[:2]
    scale = (
        params.pattern_scale if params.pattern_scale is not None else working_scale(height, width, params.pattern_size)
    )
    shrunk = working_shape(height, width, scale, min_side)
    enlarged = enlarged_shape(height, width, min_side) if shrunk is None else None
    resized = shrunk or enlarged
    source = image if resized is None else resize(image, resized)
    full: tuple[int, int] = resized or (height, width)
    shapes, notes = octave_shapes(*full, params.octaves, params.octave_scale, min_side)
    if guide is not None and should_cancel is not None and should_cancel():  # stopped while its guide was read
        raise DreamCancelled("the dream was cancelled")
    gradient_fn = model.gradient_fn(layers, dict(params.channels), params.precision, guide)

    def jitter(reach: int) -> tuple[int, int]:
        return int(rng.integers(-reach, reach + 1)), int(rng.integers(-reach, reach + 1))

    rooms = octave_rooms(shapes, model.tiles.plan(params).padded(shapes[-1]), params.octave_scale)
    ascent = _Ascent(model, gradient_fn, params, min_side, should_cancel, seed, jitter, rooms, strength)
    # Where the image lives between octaves: the host, or a device padded as the tile plan says at each octave.
    canvas = model.backend.canvas(source, ascent.padded)
    gradient = (model.backend.name, params.model, tuple(layers), model.precision(params.precision), guide is not None)
    kinds = [ascent.kind(shape, gradient) for shape in shapes]
    pixels = [ascent.pixels(shape) for shape in shapes]
    time_left = TimeLeft(pixels, params.steps, started, kinds, model.step_times)
    tally = _Tally(params, len(shapes), progress, time_left)
    # One image at a time: each step and octave replaces it, so a large dream holds no second copy.
    current = canvas.first(shapes[0])
    for octave, shape in enumerate(shapes, start=1):
        if octave > 1:
            current = canvas.grow(current, shape, shapes[octave - 2])
            if params.detail_reinjection:
                current = canvas.reinject(current, shape, shapes[octave - 2])
        current = ascent.octave(octave, shape, current, tally)
    result = canvas.result(current)
    if params.keep_colors:
        result = keep_colours(result, source)
    if resized is not None:
        result = brought_back(image, source, result)
        notes.insert(0, enlarged_note(image, resized) if shrunk is None else working_note(image, resized))
    if strength is not None:
        result = painted(image, result, strength)
    return DreamResult(result, seed, len(shapes), tuple(tally.losses), tuple(notes), time.perf_counter() - started)
