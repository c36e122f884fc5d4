"""Readying a model before the first request: what a dream needs is built and compiled at start-up, so the
first artist to ask does not wait for it."""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from reverie.engine.backends import GradientFn
from reverie.engine.loading import DreamModel
from reverie.engine.octave_ascent import dream
from reverie.engine.params import DreamParams
from reverie.engine.tile_planner import TilePlan

# The picture a device's warm-up dreams on: a common photo shape.
_WARM_UP_SHAPE = (768, 1024)


def warm_up(model: DreamModel, params: DreamParams | None = None) -> float:
    """Build and compile everything a dream with ``params`` needs; returns the seconds it took. The server
    calls it at start-up."""
    started = time.perf_counter()
    params = params or DreamParams(model=model.spec.name)
    layers = params.layer_weights()
    gradient_fn = model.gradient_fn(layers, dict(params.channels), params.precision)
    _compile_batches(model, gradient_fn, params, model.min_side(tuple(layers)))
    if model.backend.compiles_per_shape:
        # The small functions around the gradient compile per tile grid, and a whole octave's loop per bucket,
        # and a new process traces them again even when they are cached on disk: one step per octave of
        # typical pictures does both for their grids and buckets (any picture whose octaves fall on the same
        # ones finds them ready).
        for shape in _warm_up_shapes(model.tiles.plan(params)):
            dream(np.full((*shape, 3), 0.5, np.float32), params.replace(steps=1, max_loss=None), model)
    return time.perf_counter() - started


def _warm_up_shapes(plan: TilePlan) -> list[tuple[int, int]]:
    """A typical picture's size; where its octaves run whole, the four corners of its bucket instead: a
    picture of any size in that bucket has each smaller octave in one of two buckets per side, which the
    corners' octaves cover."""
    if not plan.whole(_WARM_UP_SHAPE):
        return [_WARM_UP_SHAPE]
    top = plan.padded(_WARM_UP_SHAPE)  # its bucket

    def smallest(axis: int) -> int:
        side = top[axis]
        while side > 1 and plan.padded((side - 1, side - 1))[0] == top[axis]:
            side -= 1
        return side

    return [(height, width) for height in (smallest(0), top[0]) for width in (smallest(1), top[1])]


def _compile_batches(model: DreamModel, gradient_fn: GradientFn, params: DreamParams, min_side: int) -> None:
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
