"""Octave gradient ascent: the DeepDream loop itself, backend-free (NumPy around one gradient function)."""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from reverie.engine.backends import GradientFn, Stepper
from reverie.engine.loading import DreamModel
from reverie.engine.octaves import octave_shapes, reinject_detail, resize
from reverie.engine.params import DreamParams
from reverie.engine.results import DreamResult, Progress
from reverie.engine.tiling import TileLayout, tiled_gradient
from reverie.errors import BadRequest, DreamCancelled

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

    def start(self, image: np.ndarray) -> np.ndarray:
        return image

    def step(self, image: np.ndarray, shift: tuple[int, int]) -> tuple[float, np.ndarray]:
        loss, gradient = tiled_gradient(image, self._layout, self._gradient_fn, self._batch, shift, self._should_cancel)
        rate = self._params.step_size / _scale(gradient, self._params.normalization)
        for row in range(0, len(image), _ROWS):
            part, move = image[row : row + _ROWS], gradient[row : row + _ROWS]
            move *= rate
            part += move
            np.clip(part, -1.0, 1.0, out=part)
        return loss, image

    def finish(self, image: np.ndarray) -> np.ndarray:
        return image


def _stepper(
    model: DreamModel,
    gradient_fn: GradientFn,
    params: DreamParams,
    shape: tuple[int, int],
    should_cancel: CancelFn | None,
) -> Stepper:
    plan = model.tile_plan(params)
    layout = plan.layout(*shape)
    device = model.device_stepper(gradient_fn, layout, plan.batch, params, shape)
    return device or HostStepper(gradient_fn, layout, plan.batch, params, shape, should_cancel)


def _step(
    model: DreamModel,
    stepper: Stepper,
    state: Any,
    shift: tuple[int, int],
    gradient_fn: GradientFn,
    params: DreamParams,
    should_cancel: CancelFn | None,
) -> tuple[float, Any, Stepper]:
    """One step; out of device memory, smaller tiles are tried and the job goes on, never fails for it."""
    while True:
        plan = model.tile_plan(params)
        try:
            loss, state = stepper.step(state, shift)
            return loss, state, stepper
        except Exception as error:
            if not model.is_out_of_memory(error) or not model.shrink_tiles(plan):
                raise
            smaller = model.tile_plan(params)
            log.warning(
                "out of device memory with %d tile(s) of %d² at once; retrying with %d tile(s) of %d²",
                plan.batch,
                plan.tile,
                smaller.batch,
                smaller.tile,
            )
            stepper = _stepper(model, gradient_fn, params, stepper.shape, should_cancel)


def dream(
    image: np.ndarray,
    params: DreamParams,
    model: DreamModel,
    progress: ProgressFn | None = None,
    should_cancel: CancelFn | None = None,
) -> DreamResult:
    """Dream on an H×W×3 float32 image in [0, 1]; returns the same shape.

    ``should_cancel`` is asked before every gradient step (and between tile batches within a step on the
    host), so a job stops within one step.
    """
    started = time.perf_counter()
    _check_image(image)
    if params.model != model.spec.name and params.model not in model.spec.aliases:
        raise BadRequest(f"this engine has {model.spec.name} loaded, not {params.model}")
    layers = model.spec.resolve_layers(params.preset, None if params.layers is None else dict(params.layers))
    seed = params.seed if params.seed is not None else secrets.randbelow(2**32)
    rng = np.random.default_rng(seed)
    height, width = image.shape[:2]
    shapes, notes = octave_shapes(height, width, params.octaves, params.octave_scale, model.min_side(tuple(layers)))
    gradient_fn = model.gradient_fn(layers, dict(params.channels), params.precision)

    current = resize(image, shapes[0])
    current *= 2.0
    current -= 1.0  # the model's range, [-1, 1]
    losses: list[float] = []
    total_steps = len(shapes) * params.steps
    done = 0
    for octave, shape in enumerate(shapes, start=1):
        if octave > 1:
            current = resize(current, shape)
            if params.detail_reinjection:
                reinject_detail(current, image, shapes[octave - 2])
        stepper = _stepper(model, gradient_fn, params, shape, should_cancel)
        state = stepper.start(current)
        del current  # the stepper owns the image now: no second copy while it steps
        for step in range(1, params.steps + 1):
            if should_cancel is not None and should_cancel():
                raise DreamCancelled("the dream was cancelled")
            low, high = -params.jitter, params.jitter + 1
            shift = (int(rng.integers(low, high)), int(rng.integers(low, high)))
            loss, state, stepper = _step(model, stepper, state, shift, gradient_fn, params, should_cancel)
            losses.append(loss)
            done += 1
            if progress is not None:
                progress(Progress(octave, len(shapes), step, params.steps, done / total_steps, stepper.tiles, loss))
            if params.max_loss is not None and loss > params.max_loss:
                done += params.steps - step
                break
        current = stepper.finish(state)
        del state
    current += 1.0
    current *= 0.5
    result = np.clip(current, 0.0, 1.0, out=current)
    return DreamResult(result, seed, len(shapes), tuple(losses), tuple(notes), time.perf_counter() - started)
