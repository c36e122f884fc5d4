"""JAX gradient step: ``jax.jit(value_and_grad)`` over Keras' ``stateless_call``, for fixed tile shapes.

Every new input shape is a new XLA compile, so tiles are always the same size and batches are padded to a power
of two: a handful of compiled shapes serve every image and octave, and JAX's persistent compilation cache under
the user cache dir keeps them across server restarts.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from reverie.engine.backends import jax_octave
from reverie.engine.backends import jax_padded as padded_image
from reverie.engine.backends.base import Backend, Device, TiledOctave, TilePolicy, WholeOctave
from reverie.engine.backends.jax_canvas import DeviceCanvas
from reverie.engine.backends.jax_compile import COMPILE_OPTIONS, ready_convolutions  # enables the compile cache


def _batch_size(count: int) -> int:
    """The next power of two: few compiled batch shapes, at most half of a batch wasted."""
    return 1 << max(count - 1, 0).bit_length()


class Gradient:
    """The compiled gradient of the objective with respect to a batch of tiles; the weights are passed as
    arguments, not baked in as constants, so compiles stay small and cache entries a few megabytes."""

    def __init__(self, extractor: Any, objective: Callable[..., Any]) -> None:
        ready_convolutions()
        self._trainable = [variable.value for variable in extractor.trainable_variables]
        self._non_trainable = [variable.value for variable in extractor.non_trainable_variables]
        self._extractor = extractor
        self._objective = objective
        self._octave_loop: jax_octave.OctaveLoop | None = None

        def total(tiles: jax.Array, trainable: list[Any], non_trainable: list[Any]) -> tuple[jax.Array, jax.Array]:
            activations, _ = extractor.stateless_call(trainable, non_trainable, tiles, training=False)
            losses = objective(activations)
            return losses.sum(), losses

        self._step = jax.jit(jax.value_and_grad(total, has_aux=True), compiler_options=COMPILE_OPTIONS)

    def raw(self, tiles: jax.Array) -> tuple[tuple[jax.Array, jax.Array], jax.Array]:
        """((loss sum, losses), gradients) of a batch of tiles, left on the device."""
        return self._step(tiles, self._trainable, self._non_trainable)

    def octave_loop(self) -> jax_octave.OctaveLoop:
        """The whole-octave loop of this objective, built on first use."""
        if self._octave_loop is None:
            weights = (self._trainable, self._non_trainable)
            self._octave_loop = jax_octave.OctaveLoop(self._extractor, self._objective, weights)
        return self._octave_loop

    def __call__(self, tiles: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Losses and gradients of N tiles, computed as a power-of-two batch."""
        count = len(tiles)
        padded = np.zeros((_batch_size(count), *tiles.shape[1:]), np.float32)
        padded[:count] = tiles
        (_, losses), gradients = self.raw(jnp.asarray(padded))
        return np.asarray(losses)[:count], np.asarray(gradients)[:count]


def _copies(length: jax.Array, grid_span: int, shift: jax.Array, most: int) -> tuple[jax.Array, jax.Array]:
    """Along one axis, for each pixel of the padded image: where its copies lie on the grid's span, and which
    of those are on it (a grid reaches a pixel once, or more where it wraps past the image's end)."""
    first = (jnp.arange(grid_span) + shift) % length
    places = first[None, :] + length * jnp.arange(most)[:, None]
    on = places < grid_span
    return jnp.where(on, places, 0), on


@partial(jax.jit, static_argnames=("grid", "tile", "group"), compiler_options=COMPILE_OPTIONS)
def _cut(
    image: jax.Array, size: jax.Array, shift: jax.Array, *, grid: tuple[int, int], tile: int, group: int
) -> tuple[jax.Array, ...]:
    """The tiles of the rolled image wrapped around the grid, in groups of the compiled batch size (the last
    one padded with zeros). Indices stay inside the true size: the padding is never read."""
    count = grid[0] * grid[1]
    padded_count = -(-count // group) * group
    tiles = padded_image.rolled(image, size, shift, (grid[0] * tile, grid[1] * tile))
    tiles = tiles.reshape(grid[0], tile, grid[1], tile, 3).transpose(0, 2, 1, 3, 4).reshape(count, tile, tile, 3)
    tiles = jnp.pad(tiles, ((0, padded_count - count), (0, 0), (0, 0), (0, 0)))
    return tuple(tiles[i : i + group] for i in range(0, padded_count, group))


@partial(
    jax.jit, static_argnames=("grid", "tile", "copies", "normalization", "lap_levels"), compiler_options=COMPILE_OPTIONS
)
def _update(
    image: jax.Array,
    results: list[Any],
    size: jax.Array,
    shift: jax.Array,
    step_size: jax.Array,
    strength: jax.Array | None,
    *,
    grid: tuple[int, int],
    tile: int,
    copies: tuple[int, int],
    normalization: str,
    lap_levels: int,
) -> tuple[jax.Array, jax.Array]:
    """Blend, normalise over the true image, step (each pixel its ``strength``'s share, where there is a map)
    and clip; returns (mean loss over tiles, image)."""
    count = grid[0] * grid[1]
    losses = jnp.concatenate([losses for (_, losses), _ in results])[:count]
    tiles = jnp.concatenate([gradients for _, gradients in results])[:count].reshape(*grid, tile, tile, 3)
    rows, on_rows = _copies(size[0], grid[0] * tile, shift[0], copies[0])
    cols, on_cols = _copies(size[1], grid[1] * tile, shift[1], copies[1])
    strips: jax.Array = sum(  # type: ignore[assignment]  # never 0: every grid has rows
        jnp.where(on[:, None, None, None], tiles[place // tile, :, place % tile], 0.0)
        for place, on in zip(rows, on_rows, strict=True)
    )  # padded height × columns of tiles × tile × 3
    total = sum(
        jnp.where(on[:, None], strips[:, place // tile, place % tile], 0.0)
        for place, on in zip(cols, on_cols, strict=True)
    )
    inside = padded_image.valid(image.shape[:2], size)[..., None]
    gradient = jnp.where(inside, total / (on_rows.sum(axis=0)[:, None, None] * on_cols.sum(axis=0)[:, None]), 0.0)
    direction = jax_octave.normalized(gradient, inside, size, normalization, lap_levels)
    image = image + step_size * (direction if strength is None else direction * strength)
    return losses.mean(), jnp.where(inside, jnp.clip(image, -1.0, 1.0), 0.0)


@partial(jax.jit, static_argnames="shape", compiler_options=COMPILE_OPTIONS)
def _refit(image: jax.Array, *, shape: tuple[int, int]) -> jax.Array:
    return padded_image.refit(image, shape)


class DeviceStepper:
    """One octave's steps with the image kept on the device, padded to the tile grid (see ``jax_padded``):
    cutting tiles and the blended update are two small jitted functions, compiled once per tile grid and
    shared by every image size on it, around the one expensive compiled gradient that every shape shares.

    Nothing in a step waits for the device: it dispatches 2 + (tile groups) calls and returns its loss as a
    device scalar, which the dream loop reads while the next step already runs. Tiles lie on a wrapped grid
    (see ``tiling``); they are cut with one gather per axis and their gradients brought back with one or two
    gathers per axis: no scatter, which XLA's deterministic GPU mode serialises, and no operation per tile,
    so the glue compiles in the same time for 4 tiles or 64."""

    asynchronous = True

    def __init__(self, gradient: Gradient, octave: TiledOctave) -> None:
        layout, params, shape = octave.layout, octave.params, octave.shape
        self.tiles = layout.count
        self.shape = shape
        self._gradient = gradient
        self._size = padded_image.size_of(shape)
        self._step_size = np.float32(params.step_size)
        self._grid_shape = (layout.height, layout.width)
        self._strength = jax_octave.device_strength(octave.strength, self._grid_shape)
        grid = (len(layout.rows), len(layout.cols))
        tile = layout.tile_height
        self._cut = partial(_cut, grid=grid, tile=tile, group=min(octave.batch, _batch_size(layout.count)))
        # Room for every copy a wrapped grid makes of a pixel: 2 unless the image is under half the grid's span;
        # never fewer, so that most sizes on a grid share one compiled update.
        copies = (max(2, -(-layout.height // shape[0])), max(2, -(-layout.width // shape[1])))
        normalization = params.normalization
        levels = params.lap_levels if normalization == "laplacian" else 0  # other normalisations share one compile
        self._update = partial(
            _update, grid=grid, tile=tile, copies=copies, normalization=normalization, lap_levels=levels
        )

    def step(self, image: jax.Array, shift: tuple[int, int]) -> tuple[jax.Array, jax.Array]:
        if image.shape[:2] != self._grid_shape:  # padded for other tiles (device memory ran out): refit
            image = _refit(image, shape=self._grid_shape)
        offset = np.asarray(shift, np.int32)  # goes up with the call: no eager op of its own
        results = [self._gradient.raw(tiles) for tiles in self._cut(image, self._size, offset)]
        return self._update(image, results, self._size, offset, self._step_size, self._strength)


class JaxBackend:
    """JAX's compiled gradient, with the image kept on the device: tiled steps (``DeviceStepper``), whole
    octaves in one compiled loop (``jax_octave``), octave changes on the device (``jax_canvas``)."""

    # A max pool's gradient (select-and-scatter) has no deterministic GPU kernel (see ``jax_compile``).
    name = "jax"
    scatter_free_pooling = True
    compiles_per_shape = True

    def device(self) -> Device:
        first = jax.devices()[0]
        return Device("cpu", "CPU") if first.platform == "cpu" else Device("gpu", str(first.device_kind))

    def tile_policy(self, device: Device) -> TilePolicy:
        """Whole octaves up to 4 MP padded (a 2048² image) on a GPU, 1 MP on a CPU; above that 512² tiles, 16
        at a time on a GPU, the fastest of the tile sizes and batches measured (see docs/performance.md)."""
        if device.platform == "gpu":
            return TilePolicy(fixed=True, tile=512, batch=16, bucket_pixels=2048 * 2048)
        return TilePolicy(fixed=True, tile=512, batch=2, bucket_pixels=1024 * 1024)

    def bucket(self, shape: tuple[int, int]) -> tuple[int, int]:
        return jax_octave.bucket(shape)

    def is_out_of_memory(self, error: BaseException) -> bool:
        return isinstance(error, jax.errors.JaxRuntimeError) and "RESOURCE_EXHAUSTED" in str(error)

    def make_gradient_fn(self, extractor: Any, objective: Callable[..., Any]) -> Gradient:
        return Gradient(extractor, objective)

    def canvas(self, source: np.ndarray, padded_shape: Callable[[tuple[int, int]], tuple[int, int]]) -> DeviceCanvas:
        return DeviceCanvas(source, padded_shape)

    def tiled_stepper(self, gradient_fn: Gradient, octave: TiledOctave) -> DeviceStepper:
        """Cancelling is asked between steps only: a step's dispatch never waits for the device."""
        return DeviceStepper(gradient_fn, octave)

    def octave_stepper(self, gradient_fn: Gradient, octave: WholeOctave) -> jax_octave.OctaveStepper:
        return jax_octave.OctaveStepper(gradient_fn.octave_loop(), octave)


BACKEND: Backend[Gradient] = JaxBackend()  # mypy checks it against the interface
