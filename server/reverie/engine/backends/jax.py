"""JAX gradient step: ``jax.jit(value_and_grad)`` over Keras' ``stateless_call``, for fixed tile shapes.

Every new input shape is a new XLA compile (seconds on a GPU), so tiles are always the same size and
batches are padded to a power of two: a handful of compiled shapes serve every image and octave, and
JAX's persistent compilation cache under the user cache dir keeps them across server restarts.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import platformdirs

from reverie.engine.backends import Device, TilePolicy
from reverie.engine.tiling import TileLayout


def _enable_compile_cache() -> None:
    """Keep compiled steps on disk: a new process then loads them in about a second instead of compiling."""
    if os.environ.get("JAX_COMPILATION_CACHE_DIR"):
        return  # the user chose a place (JAX reads the variable itself)
    folder = Path(platformdirs.user_cache_dir("reverie")) / "jax"
    folder.mkdir(parents=True, exist_ok=True)
    jax.config.update("jax_compilation_cache_dir", str(folder))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.1)  # the small per-shape glue too


_enable_compile_cache()

# Same seed, same dream: some GPU kernels (cuDNN's backward convolutions, atomics) round differently from
# run to run unless XLA leaves them out. Asked of each compile, not set in XLA_FLAGS for the whole process
# (other jits, such as the benchmark's Keras example, stay as their authors run them). A max pool's gradient
# (select-and-scatter) has no deterministic GPU kernel: XLA refuses it here, and under the older
# --xla_gpu_deterministic_ops it made a batch of 16 512² tiles 2.1× slower on an H200; so dream graphs here
# take their max pools as slices (see ``pooling``).
_DETERMINISTIC = {"xla_gpu_exclude_nondeterministic_ops": True}
SCATTER_FREE_POOLING = True


def _batch_size(count: int) -> int:
    """The next power of two: few compiled batch shapes, at most half of a batch wasted."""
    return 1 << max(count - 1, 0).bit_length()


class Gradient:
    """The compiled gradient of the objective with respect to a batch of tiles; the weights are passed as
    arguments, not baked in as constants, so compiles stay small and cache entries a few megabytes."""

    def __init__(self, extractor: Any, objective: Callable[[Any], Any]) -> None:
        self._trainable = [variable.value for variable in extractor.trainable_variables]
        self._non_trainable = [variable.value for variable in extractor.non_trainable_variables]

        def total(tiles: jax.Array, trainable: list[Any], non_trainable: list[Any]) -> tuple[jax.Array, jax.Array]:
            activations, _ = extractor.stateless_call(trainable, non_trainable, tiles, training=False)
            losses = objective(activations)
            return losses.sum(), losses

        self._step = jax.jit(jax.value_and_grad(total, has_aux=True), compiler_options=_DETERMINISTIC)

    def raw(self, tiles: jax.Array) -> tuple[tuple[jax.Array, jax.Array], jax.Array]:
        """((loss sum, losses), gradients) of a batch of tiles, left on the device."""
        return self._step(tiles, self._trainable, self._non_trainable)

    def __call__(self, tiles: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Losses and gradients of N tiles, computed as a power-of-two batch."""
        count = len(tiles)
        padded = np.zeros((_batch_size(count), *tiles.shape[1:]), np.float32)
        padded[:count] = tiles
        (_, losses), gradients = self.raw(jnp.asarray(padded))
        return np.asarray(losses)[:count], np.asarray(gradients)[:count]


def make_gradient_fn(extractor: Any, objective: Callable[[Any], Any]) -> Gradient:
    return Gradient(extractor, objective)


class DeviceStepper:
    """One octave's steps with the image kept on the device: cutting tiles and the blended update are two
    small jitted functions of this image shape (compiled in milliseconds) around the one expensive compiled
    gradient that every shape shares.

    Nothing in a step waits for the device: it dispatches 2 + (tile groups) calls and returns its loss as a
    device scalar, which the dream loop reads while the next step already runs. Tiles lie on a wrapped grid
    (see ``tiling``); they are cut with one gather per axis and their gradients brought back with one or two
    gathers per axis: no scatter, which XLA's deterministic GPU mode serialises, and no operation per tile,
    so the glue compiles in the same time for 4 tiles or 64."""

    asynchronous = True

    def __init__(
        self,
        gradient: Gradient,
        layout: TileLayout,
        batch: int,
        step_size: float,
        normalization: str,
        shape: tuple[int, int],
    ) -> None:
        self.tiles = count = layout.count
        self.shape = shape
        self._gradient = gradient
        height, width = shape
        grid, th, tw = (len(layout.rows), len(layout.cols)), layout.tile_height, layout.tile_width
        group = min(batch, _batch_size(count))
        padded = -(-count // group) * group

        def cut(image: jax.Array, shift: jax.Array) -> tuple[jax.Array, ...]:
            """The tiles of the rolled image wrapped around the grid, in groups of the compiled batch size
            (the last one padded with zeros)."""
            rows = (jnp.arange(layout.height) - shift[0]) % height
            cols = (jnp.arange(layout.width) - shift[1]) % width
            tiles = image[rows][:, cols]
            tiles = tiles.reshape(grid[0], th, grid[1], tw, 3).transpose(0, 2, 1, 3, 4).reshape(count, th, tw, 3)
            tiles = jnp.pad(tiles, ((0, padded - count), (0, 0), (0, 0), (0, 0)))
            return tuple(tiles[i : i + group] for i in range(0, padded, group))

        def copies(length: int, span: int, shift: jax.Array) -> tuple[jax.Array, jax.Array]:
            """Along one axis, for each image pixel: where its copies lie on the grid's span, and which of
            those are on it (a grid reaches a pixel once, or more where it wraps past the image's end)."""
            first = (jnp.arange(length) + shift) % length
            places = first[None, :] + length * jnp.arange(-(-span // length))[:, None]
            on = places < span
            return jnp.where(on, places, 0), on

        def blend(gradients: jax.Array, shift: jax.Array) -> jax.Array:
            """Each pixel's gradient, the mean over its copies on the grid, in the image's own frame."""
            tiles = gradients.reshape(*grid, th, tw, 3)
            rows, on_rows = copies(height, layout.height, shift[0])
            cols, on_cols = copies(width, layout.width, shift[1])
            strips = sum(
                jnp.where(on[:, None, None, None], tiles[place // th, :, place % th], 0.0)
                for place, on in zip(rows, on_rows, strict=True)
            )  # height × columns of tiles × tile width × 3
            total = sum(
                jnp.where(on[:, None], strips[:, place // tw, place % tw], 0.0)
                for place, on in zip(cols, on_cols, strict=True)
            )
            return total / (on_rows.sum(axis=0)[:, None, None] * on_cols.sum(axis=0)[:, None])

        def update(image: jax.Array, results: list[Any], shift: jax.Array) -> tuple[jax.Array, jax.Array]:
            """Blend, normalise, step and clip; returns (mean loss over tiles, image)."""
            losses = jnp.concatenate([losses for (_, losses), _ in results])[:count]
            gradient = blend(jnp.concatenate([gradients for _, gradients in results])[:count], shift)
            scale = jnp.std(gradient) if normalization == "std" else jnp.mean(jnp.abs(gradient))
            image = image + step_size * gradient / jnp.where(scale > 0, scale, 1.0)
            return losses.mean(), jnp.clip(image, -1.0, 1.0)

        self._cut = jax.jit(cut, compiler_options=_DETERMINISTIC)
        self._update = jax.jit(update, compiler_options=_DETERMINISTIC)

    def step(self, image: jax.Array, shift: tuple[int, int]) -> tuple[jax.Array, jax.Array]:
        offset = np.asarray(shift, np.int32)  # goes up with the call: no eager op of its own
        results = [self._gradient.raw(tiles) for tiles in self._cut(image, offset)]
        return self._update(image, results, offset)


def make_stepper(
    gradient: Gradient, layout: TileLayout, batch: int, step_size: float, normalization: str, shape: tuple[int, int]
) -> DeviceStepper:
    return DeviceStepper(gradient, layout, batch, step_size, normalization, shape)


def _resized(image: jax.Array, shape: tuple[int, int]) -> jax.Array:
    """Bilinear, antialiased when shrinking: Pillow's BILINEAR, which the host canvas uses, within 1e-4."""
    if image.shape[:2] == shape:
        return image
    return jax.image.resize(image, (*shape, image.shape[2]), "linear", antialias=True)


@partial(jax.jit, static_argnames="shape", compiler_options=_DETERMINISTIC)
def _first(source: jax.Array, shape: tuple[int, int]) -> jax.Array:
    return _resized(source, shape) * 2.0 - 1.0


@partial(jax.jit, static_argnames=("shape", "previous"), compiler_options=_DETERMINISTIC)
def _grown(image: jax.Array, source: jax.Array | None, shape: tuple[int, int], previous: tuple[int, int]) -> jax.Array:
    grown = _resized(image, shape)
    if source is None:
        return grown
    return grown + 2.0 * (_resized(source, shape) - _resized(_resized(source, previous), shape))


@partial(jax.jit, compiler_options=_DETERMINISTIC)
def _result(image: jax.Array) -> jax.Array:
    return jnp.clip((image + 1.0) * 0.5, 0.0, 1.0)


class DeviceCanvas:
    """The dream's image kept on the device from its first octave to its last: the source goes up once and
    the result comes down once. Between octaves the device resizes and puts back the lost detail itself
    instead of idling while the image goes to the host, through Pillow (about 0.06 s of a default dream on a
    2-core CPU) and back. On a CPU, XLA's resize (dense matrices) is slower than Pillow's — 0.18 s against
    0.06 s for a default dream's octave changes, 18 s against 2.5 s at 4096² — but under 1 % of a dream's
    steps there, so JAX keeps one path."""

    def __init__(self, source: np.ndarray, reinjection: bool) -> None:
        self._source = jnp.asarray(source)
        self._reinjection = reinjection

    def first(self, shape: tuple[int, int]) -> jax.Array:
        return _first(self._source, shape)

    def next(self, image: jax.Array, shape: tuple[int, int], previous: tuple[int, int]) -> jax.Array:
        return _grown(image, self._source if self._reinjection else None, shape, previous)

    def result(self, image: jax.Array) -> np.ndarray:
        return np.array(_result(image))  # a copy: the caller may write into it


def make_canvas(source: np.ndarray, reinjection: bool) -> DeviceCanvas:
    return DeviceCanvas(source, reinjection)


def tile_policy(device: Device) -> TilePolicy:
    """512² tiles, 16 at a time: the compiled gradient ran them at 465 MP/s on an H200, one tile at 89.
    1024² tiles 4 at a time were slower there, for the default dream and at 4096² alike."""
    if device.platform == "gpu":
        return TilePolicy(fixed=True, tile=512, batch=16)
    return TilePolicy(fixed=True, tile=512, batch=2)


def is_out_of_memory(error: BaseException) -> bool:
    return isinstance(error, jax.errors.JaxRuntimeError) and "RESOURCE_EXHAUSTED" in str(error)


def device() -> Device:
    first = jax.devices()[0]
    return Device("cpu", "CPU") if first.platform == "cpu" else Device("gpu", str(first.device_kind))
