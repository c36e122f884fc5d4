"""The dream's image on a JAX device from octave to octave, padded as its steppers want (see ``jax_padded``)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from reverie.engine.backends import jax_padded as padded_image
from reverie.engine.backends.jax_compile import COMPILE_OPTIONS


@partial(jax.jit, static_argnames=("shape", "resize"), compiler_options=COMPILE_OPTIONS)
def _first(
    source: jax.Array, source_size: jax.Array, size: jax.Array, *, shape: tuple[int, int], resize: bool
) -> jax.Array:
    """The source at the first octave's size, in the model's range."""
    image = padded_image.resized(source, source_size, size, shape) if resize else source
    return jnp.where(padded_image.valid(shape, size)[..., None], image * 2.0 - 1.0, 0.0)


@partial(jax.jit, static_argnames="shape", compiler_options=COMPILE_OPTIONS)
def _grown(image: jax.Array, previous_size: jax.Array, size: jax.Array, *, shape: tuple[int, int]) -> jax.Array:
    return padded_image.resized(image, previous_size, size, shape)


@partial(jax.jit, static_argnames=("shape", "previous_shape", "at_source"), compiler_options=COMPILE_OPTIONS)
def _reinjected(
    image: jax.Array,
    previous_size: jax.Array,
    source: jax.Array,
    source_size: jax.Array,
    size: jax.Array,
    *,
    shape: tuple[int, int],
    previous_shape: tuple[int, int],
    at_source: bool,
) -> jax.Array:
    """The image with the detail lost since the previous octave put back: the source at this size less the
    source shrunk to the previous size and grown back, in the model's range."""
    here = source if at_source else padded_image.resized(source, source_size, size, shape)
    shrunk = padded_image.resized(source, source_size, previous_size, previous_shape)
    return image + 2.0 * (here - padded_image.resized(shrunk, previous_size, size, shape))


@partial(jax.jit, compiler_options=COMPILE_OPTIONS)
def _result(image: jax.Array) -> jax.Array:
    return jnp.clip((image + 1.0) * 0.5, 0.0, 1.0)


class DeviceCanvas:
    """The dream's image kept on the device from its first octave to its last, each octave padded to the shape
    ``padded_shape`` gives for it (whole tiles, or the octave's bucket): the source goes up once and the result
    comes down once. Between octaves the device resizes and puts back the lost detail itself instead of idling while
    the image goes to the host, through Pillow, and back. On a CPU, XLA's resize (dense matrices) is slower than
    Pillow's, but a small part of a dream's steps there, so JAX keeps one path."""

    def __init__(self, source: np.ndarray, padded_shape: Callable[[tuple[int, int]], tuple[int, int]]) -> None:
        self._source_shape = source.shape[:2]
        self._padded_shape = padded_shape
        self._source = jnp.asarray(padded_image.padded_to(source, padded_shape(self._source_shape)))
        self._source_size = padded_image.size_of(self._source_shape)

    def first(self, shape: tuple[int, int]) -> jax.Array:
        resize = shape != self._source_shape or self._padded_shape(shape) != self._source.shape[:2]
        return _first(
            self._source, self._source_size, padded_image.size_of(shape), shape=self._padded_shape(shape), resize=resize
        )

    def grow(self, image: jax.Array, shape: tuple[int, int], previous: tuple[int, int]) -> jax.Array:
        padded_shape = self._padded_shape(shape)
        return _grown(image, padded_image.size_of(previous), padded_image.size_of(shape), shape=padded_shape)

    def reinject(self, image: jax.Array, shape: tuple[int, int], previous: tuple[int, int]) -> jax.Array:
        padded_shape = self._padded_shape(shape)
        if image.shape[:2] != padded_shape:  # its stepper padded it otherwise (device memory ran out)
            image = padded_image.refit(image, padded_shape)
        return _reinjected(
            image,
            padded_image.size_of(previous),
            self._source,
            self._source_size,
            padded_image.size_of(shape),
            shape=padded_shape,
            previous_shape=self._padded_shape(previous),
            at_source=shape == self._source_shape and padded_shape == self._source.shape[:2],
        )

    def result(self, image: jax.Array) -> np.ndarray:
        height, width = self._source_shape
        return np.array(np.asarray(_result(image))[:height, :width])  # a copy: the caller may write into it
