"""Readying a model before the first request: what a dream needs is built and compiled at start-up, so the
first artist to ask does not wait for it."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import numpy as np

from reverie.engine.backends.base import GradientFn
from reverie.engine.loading import DreamModel
from reverie.engine.octave_ascent import dream
from reverie.engine.params import DreamParams

# The pictures (height, width) a device's warm-up dreams on by default: a common photo shape, either way up.
WARM_UP_PICTURES = ((768, 1024), (1024, 768))


def warm_up(
    model: DreamModel[Any],
    params: DreamParams | None = None,
    pictures: tuple[tuple[int, int], ...] = WARM_UP_PICTURES,
) -> float:
    """Build and compile everything a dream with ``params`` needs, on ``pictures`` of these sizes (height,
    width) and every picture padded as one of them; returns the seconds it took. The server calls it at
    start-up."""
    started = time.perf_counter()
    params = params or DreamParams(model=model.spec.name)
    layers = params.layer_weights()
    gradient_fn = model.gradient_fn(layers, dict(params.channels), params.precision)
    _compile_batches(model, gradient_fn, params, model.min_side(tuple(layers)))
    if model.backend.compiles_per_shape:
        # The small functions around the gradient compile per tile grid, and a whole octave's loop per bucket,
        # and a new process traces them again even when they are cached on disk: one step per octave of each
        # warm-up picture does both, for every picture whose full size pads as one of theirs (its octaves are
        # padded as theirs, see ``octaves.octave_rooms``).
        for shape in pictures:
            dream(np.full((*shape, 3), 0.5, np.float32), params.replace(steps=1, max_loss=None), model)
    return time.perf_counter() - started


def _compile_batches(model: DreamModel[Any], gradient_fn: GradientFn, params: DreamParams, min_side: int) -> None:
    """Compile (by running) each tile batch the plan's dreams use, smallest first. Out of device memory, the
    tiles shrink and it starts again: a small GPU gets smaller batches, not a server that fails to start."""
    plan = model.tiles.plan(params)
    side = max(plan.tile if plan.fixed else min(plan.tile, 512), min_side)
    for batch in [1 << i for i in range(plan.batch.bit_length())] if plan.fixed else [1]:
        try:
            gradient_fn(np.zeros((batch, side, side, 3), np.float32))
        except Exception as error:
            model.tiles.out_of_memory(error, params, failed=dataclasses.replace(plan, batch=batch), during="warm-up: ")
            _compile_batches(model, gradient_fn, params, min_side)
            return
