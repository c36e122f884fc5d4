"""Octave gradient ascent: the DeepDream loop itself, backend-free (NumPy around one gradient function)."""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from reverie.engine.backends import GradientFn, Stepper
from reverie.engine.colours import keep_colours
from reverie.engine.laplacian import lap_normalize
from reverie.engine.loading import DreamModel
from reverie.engine.octaves import octave_shapes
from reverie.engine.params import DreamParams
from reverie.engine.results import DreamResult, ImageView, Progress
from reverie.engine.tiling import TileLayout, tiled_gradient
from reverie_wire.errors import BadRequest, DreamCancelled

ProgressFn = Callable[[Progress], None]
CancelFn = Callable[[], bool]

log = logging.getLogger(__name__)


def _check_image(image: np.ndarray) -> None:
    if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3:
        raise BadRequest(f"the engine takes an H×W×3 RGB array, got {getattr(image, 'shape', type(image))}")
    if image.dtype != np.float32:
        raise BadRequest(f"the engine takes float32 pixels, got {image.dtype}")
    if not np.isfinite(image).all():
        raise BadRequest("the image holds NaN or infinite values")


# Rows per slice when NumPy walks a whole image: temporaries stay megabytes, not an image's size.
_ROWS = 256


def _scale(gradient: np.ndarray, normalization: str) -> float:
    """mean|g| or std(g), summed in float64 over row slices: temporaries stay a slice's size, never the image's."""
    parts = [gradient[row : row + _ROWS] for row in range(0, len(gradient), _ROWS)]  # views, not copies
    count = gradient.size
    if normalization == "std":
        mean = sum(float(part.sum(dtype=np.float64)) for part in parts) / count
        scale = (sum(float(np.square(part - mean).sum(dtype=np.float64)) for part in parts) / count) ** 0.5
    else:
        scale = sum(float(np.abs(part).sum(dtype=np.float64)) for part in parts) / count
    return scale if scale > 0 else 1.0  # any non-zero scale, however tiny, is a direction


class HostStepper:
    """One octave's steps in NumPy around the backend's gradient: for backends that need no fixed shapes.

    The image is updated in place; the jitter shift lives in the tiles' indices (see ``tiled_gradient``),
    so a step holds the image, its gradient and one batch of tiles, and nothing else image-sized."""

    asynchronous = False

    def __init__(
        self,
        gradient_fn: GradientFn,
        layout: TileLayout,
        batch: int,
        params: DreamParams,
        shape: tuple[int, int],
        should_cancel: CancelFn | None,
    ) -> None:
        self.tiles = layout.count
        self.shape = shape
        self._gradient_fn = gradient_fn
        self._layout = layout
        self._batch = batch
        self._params = params
        self._should_cancel = should_cancel

    def step(self, image: np.ndarray, shift: tuple[int, int]) -> tuple[float, np.ndarray]:
        loss, gradient = tiled_gradient(image, self._layout, self._gradient_fn, self._batch, shift, self._should_cancel)
        if self._params.normalization == "laplacian":  # then scaled by mean |g| like mean_abs, below
            gradient = lap_normalize(gradient, self._params.lap_levels)
        rate = self._params.step_size / _scale(gradient, self._params.normalization)
        for row in range(0, len(image), _ROWS):
            part, move = image[row : row + _ROWS], gradient[row : row + _ROWS]
            move *= rate
            part += move
            np.clip(part, -1.0, 1.0, out=part)
        return loss, image


def image_view(state: Any, shape: tuple[int, int]) -> ImageView:
    """Progress's lazy reader of ``state`` (a host or device image in [-1, 1], maybe padded beyond ``shape``):
    the stride is taken where the image lives, so a device sends only the pixels asked for."""

    def view(max_side: int) -> np.ndarray:
        height, width = shape
        stride = max(1, max(height, width) // max(1, max_side))
        image = np.array(state[:height:stride, :width:stride], dtype=np.float32)  # a copy, the caller's
        image += 1.0
        image *= 0.5
        return np.clip(image, 0.0, 1.0, out=image)

    return view


@dataclass(frozen=True)
class _Dispatched:
    """A step handed to the stepper; on a device its loss may not be computed yet."""

    step: int
    shift: tuple[int, int]
    before: Any
    loss: Any
    after: Any


@dataclass
class _Tally:
    """The dream's losses and progress across its octaves."""

    params: DreamParams
    octaves: int
    progress: ProgressFn | None
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
            self.progress(Progress(octave, self.octaves, step, steps, fraction, tiles, loss, image, ends))
        if stopped:
            self.done += steps - step
            return False
        return True


@dataclass(frozen=True)
class _Ascent:
    """Running one dream's steps: out of device memory, smaller tiles are tried and the job goes on."""

    model: DreamModel
    gradient_fn: GradientFn
    params: DreamParams
    min_side: int  # the layers' smallest input: no tile is smaller
    should_cancel: CancelFn | None
    seed: int

    def stepper(self, shape: tuple[int, int], octave: int) -> Stepper:
        whole = self.model.octave_stepper(self.gradient_fn, self.params, shape, self.seed, octave)
        if whole is not None:
            return whole
        return self.tiled_stepper(shape)

    def _smaller(self, stepper: Stepper, error: Exception) -> Stepper:
        """A stepper with smaller tiles after ``error`` ran out of device memory; re-raises any other error."""
        plan = self.model.tile_plan(self.params)
        if not self.model.is_out_of_memory(error) or not self.model.shrink_tiles(plan):
            raise error
        smaller = self.model.tile_plan(self.params)
        log.warning(
            "out of device memory with %d tile(s) of %d² at once; retrying with %d tile(s) of %d²",
            plan.batch,
            plan.tile,
            smaller.batch,
            smaller.tile,
        )
        return self.tiled_stepper(stepper.shape)

    def tiled_stepper(self, shape: tuple[int, int]) -> Stepper:
        plan = self.model.tile_plan(self.params)
        layout = plan.layout(*shape, self.min_side)
        device = self.model.device_stepper(self.gradient_fn, layout, plan.batch, self.params, shape)
        return device or HostStepper(self.gradient_fn, layout, plan.batch, self.params, shape, self.should_cancel)

    def step(self, stepper: Stepper, step: int, state: Any, shift: tuple[int, int]) -> tuple[_Dispatched, Stepper]:
        while True:
            try:
                loss, after = stepper.step(state, shift)
                return _Dispatched(step, shift, state, loss, after), stepper
            except Exception as error:
                stepper = self._smaller(stepper, error)

    def read(self, stepper: Stepper, dispatched: _Dispatched) -> tuple[float, _Dispatched, Stepper]:
        """The step's loss, waiting for the device. A device may report running out of memory only now:
        then the step runs again with smaller tiles, and the returned step is that run."""
        try:
            return float(dispatched.loss), dispatched, stepper
        except Exception as error:
            stepper = self._smaller(stepper, error)
            again, stepper = self.step(stepper, dispatched.step, dispatched.before, dispatched.shift)
            return self.read(stepper, again)

    def reach(self) -> int:
        """How far the image is rolled (each way) before a step: the jitter, and with fixed tiles on a wrapped
        grid at least half a tile, so that tile edges land anywhere on the image."""
        plan = self.model.tile_plan(self.params)
        return max(self.params.jitter, plan.tile // 2) if plan.fixed else self.params.jitter

    def _chunks(self, octave: int, stepper: Any, state: Any, tally: _Tally) -> tuple[Any, int | None]:
        """The octave's steps a chunk per call, each loss recorded in ``tally``; returns the image and None,
        or, when the whole image ran out of device memory, the image so far and the step to go on from with
        tiles. Cancelling is asked before each chunk, which lasts about a quarter of a second."""
        step = 1
        while step <= self.params.steps:
            if self.should_cancel is not None and self.should_cancel():
                raise DreamCancelled("the dream was cancelled")
            try:
                state_after, losses = stepper.advance(state, step, stepper.chunk(self.params.steps - step + 1))
            except Exception as error:
                if not self.model.is_out_of_memory(error):
                    raise
                height, width = stepper.padded_shape
                log.warning("out of device memory with a whole %d×%d octave; going on with tiles", width, height)
                self.model.shrink_buckets(stepper.padded_shape)
                return state, step
            state = state_after
            view = image_view(state, stepper.shape)  # the image after the chunk: the one its last step left
            for loss in losses:
                if not tally.record(octave, step, stepper.tiles, loss, view):
                    return state, None
                step += 1
        return state, None

    def octave(
        self, octave: int, stepper: Any, state: Any, shifts: Callable[[int], tuple[int, int]], tally: _Tally
    ) -> Any:
        """The octave's steps, each loss recorded in ``tally``, which may end the octave early.

        A device stepper gets the next step before the last one's loss is read, so the device never waits
        for the host; a step that ends the octave is then kept and the one queued behind it dropped."""
        first = 1
        if getattr(stepper, "chunked", False):
            state, resume = self._chunks(octave, stepper, state, tally)
            if resume is None:
                return state
            first, stepper = resume, self.tiled_stepper(stepper.shape)
        unread: _Dispatched | None = None
        for step in range(first, self.params.steps + 1):
            if self.should_cancel is not None and self.should_cancel():
                raise DreamCancelled("the dream was cancelled")
            queued, stepper = self.step(stepper, step, state, shifts(self.reach()))
            if unread is not None:
                loss, done, stepper = self.read(stepper, unread)
                if done is not unread:  # it ran again: the queued step must start from its result
                    queued, stepper = self.step(stepper, step, done.after, queued.shift)
                if not tally.record(octave, done.step, stepper.tiles, loss, image_view(done.after, stepper.shape)):
                    return done.after
            unread = queued
            if not stepper.asynchronous:
                loss, unread, stepper = self.read(stepper, unread)
                if not tally.record(octave, step, stepper.tiles, loss, image_view(unread.after, stepper.shape)):
                    return unread.after
                state, unread = unread.after, None
            else:
                state = unread.after
        if unread is not None:
            loss, unread, stepper = self.read(stepper, unread)
            tally.record(octave, unread.step, stepper.tiles, loss, image_view(unread.after, stepper.shape))
            state = unread.after
        return state


def dream(
    image: np.ndarray,
    params: DreamParams,
    model: DreamModel,
    progress: ProgressFn | None = None,
    should_cancel: CancelFn | None = None,
    guide: np.ndarray | None = None,
) -> DreamResult:
    """Dream on an H×W×3 float32 image in [0, 1]; returns the same shape. With a ``guide`` (H×W×3 float32 in
    [0, 1], any size) the dream grows the guide's motifs (see ``objective.make_guided_objective``).

    ``should_cancel`` is asked before every gradient step (and between tile batches within a step on the
    host), so a job stops within one step; where a device runs several steps per call, before each call,
    which lasts about a quarter of a second.
    """
    started = time.perf_counter()
    _check_image(image)
    if params.model != model.spec.name and params.model not in model.spec.aliases:
        raise BadRequest(f"this engine has {model.spec.name} loaded, not {params.model}")
    layers = model.spec.resolve_layers(params.preset, None if params.layers is None else dict(params.layers))
    seed = params.seed if params.seed is not None else secrets.randbelow(2**32)
    rng = np.random.default_rng(seed)
    height, width = image.shape[:2]
    min_side = model.min_side(tuple(layers))
    shapes, notes = octave_shapes(height, width, params.octaves, params.octave_scale, min_side)
    if guide is not None:
        _check_image(guide)
    gradient_fn = model.gradient_fn(layers, dict(params.channels), params.precision, guide)

    canvas = model.canvas(image, params)
    ascent = _Ascent(model, gradient_fn, params, min_side, should_cancel, seed)
    tally = _Tally(params, len(shapes), progress)

    def shift(reach: int) -> tuple[int, int]:
        return int(rng.integers(-reach, reach + 1)), int(rng.integers(-reach, reach + 1))

    # One image at a time: each step and octave replaces it, so a large dream holds no second copy.
    current = canvas.first(shapes[0])
    for octave, shape in enumerate(shapes, start=1):
        if octave > 1:
            current = canvas.grow(current, shape, shapes[octave - 2])
            if params.detail_reinjection:
                current = canvas.reinject(current, shape, shapes[octave - 2])
        current = ascent.octave(octave, ascent.stepper(shape, octave), current, shift, tally)
    result = canvas.result(current)
    if params.keep_colors:
        result = keep_colours(result, image)
    return DreamResult(result, seed, len(shapes), tuple(tally.losses), tuple(notes), time.perf_counter() - started)
