"""TensorFlow gradient step: one ``tf.function`` traced once for every tile and octave shape.

TensorFlow needs no fixed shapes (an unknown-size signature costs nothing on the CPU), so tiles are
only as large as the image needs and no pixel is computed twice; octave changes, and the steps of octaves
larger than one tile, run on the host (see ``host``); an octave one tile covers (up to 1024² by default) steps
inside the graph. XLA is left off: on the CPU it was slower than the plain graph (see docs/performance.md).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import tensorflow as tf

from reverie.engine.backends import (
    Backend,
    ChunkedStepper,
    Device,
    GradientFn,
    Stepper,
    TiledOctave,
    TilePolicy,
    WholeOctave,
)
from reverie.engine.backends.host import HostCanvas, HostStepper


class _Gradient:
    """The compiled gradient of one objective, with respect to the image only (the weights are constants,
    never differentiated): called on tiles as a ``GradientFn``, or stepping a one-tile octave inside the graph
    (``whole_step``)."""

    def __init__(self, extractor: Any, objective: Callable[..., Any]) -> None:
        def gradient(tiles: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
            with tf.GradientTape() as tape:
                tape.watch(tiles)
                losses = objective(extractor(tiles, training=False))
                total = tf.reduce_sum(losses)
            return losses, tape.gradient(total, tiles)

        self._tiles = tf.function(gradient, input_signature=[_TILES], reduce_retracing=True)
        self._whole = tf.function(_whole_step(gradient), input_signature=_WHOLE, reduce_retracing=True)
        self._whole_traced = False

    def __call__(self, tiles: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if not self._whole_traced:  # traced with the tiles' function, so a warm-up readies both
            self._whole.get_concrete_function()
            self._whole_traced = True
        losses, gradients = self._tiles(tf.constant(tiles))
        return losses.numpy(), gradients.numpy()

    def whole_step(self, image: np.ndarray, shift: tuple[int, int], step_size: float) -> tuple[float, np.ndarray]:
        """One step of a one-tile octave: the image rolled by ``shift``, its gradient rolled back, scaled by its
        mean |g|, stepped along and clipped, all in the graph; returns (loss, the new image as a host array)."""
        loss, stepped = self._whole(image, tf.constant(shift, tf.int32), tf.constant(step_size, tf.float64))
        return float(loss), stepped.numpy()


_TILES = tf.TensorSpec([None, None, None, 3], tf.float32)
# image H×W×3, shift (rows, columns), step size
_WHOLE = [tf.TensorSpec([None, None, 3], tf.float32), tf.TensorSpec([2], tf.int32), tf.TensorSpec([], tf.float64)]


def _whole_step(gradient: Callable[[tf.Tensor], tuple[tf.Tensor, tf.Tensor]]) -> Callable[..., Any]:
    """The host's mean |g| step (``host.HostStepper`` over one tile) as one graph, operation for operation in the
    same precision, so that it gives the same image bit for bit: the tile a roll, the scale summed in float64
    from float32 terms, the rate rounded to float32 as NumPy rounds a Python float against a float32 array.
    (Not the std normalisation: TensorFlow flushes float32 squares under 1e-38 to zero, NumPy keeps them, and
    a random model's gradients can be that small.)"""

    def step(image: tf.Tensor, shift: tf.Tensor, step_size: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        losses, gradients = gradient(tf.roll(image, shift, axis=[0, 1])[None])
        g = tf.roll(gradients[0], -shift, axis=[0, 1])
        scale = tf.reduce_sum(tf.cast(tf.abs(g), tf.float64)) / tf.cast(tf.size(g), tf.float64)
        scale = tf.where(scale > 0, scale, tf.constant(1.0, tf.float64))
        move = g * tf.cast(step_size / scale, tf.float32)
        return tf.reduce_sum(losses), tf.clip_by_value(image + move, -1.0, 1.0)

    return step


class _WholeTileStepper:
    """An octave that one tile covers, stepped inside TensorFlow's graph: the roll, the normalisation and the
    update run there, so a step copies the image in and out once and none of it runs single-threaded in NumPy."""

    asynchronous = False
    tiles = 1

    def __init__(self, gradient: _Gradient, octave: TiledOctave) -> None:
        self.shape = octave.shape
        self._gradient = gradient
        self._step_size = octave.params.step_size

    def step(self, image: np.ndarray, shift: tuple[int, int]) -> tuple[float, np.ndarray]:
        return self._gradient.whole_step(image, shift, self._step_size)


class TensorFlowBackend:
    """TensorFlow's gradient around NumPy steps on the host."""

    # TensorFlow's max-pool gradient is a fast native kernel; the dream graph keeps it.
    name = "tensorflow"
    scatter_free_pooling = False
    compiles_per_shape = False

    def device(self) -> Device:
        gpus = tf.config.list_physical_devices("GPU")
        if not gpus:
            return Device("cpu", "CPU")
        details = tf.config.experimental.get_device_details(gpus[0])
        return Device("gpu", str(details.get("device_name", gpus[0].name)))

    def tile_policy(self, device: Device) -> TilePolicy:
        """One tile at a time on a CPU: each convolution already keeps the cores busy, and a second tile's
        activations would only add to the memory a large image holds."""
        return TilePolicy(fixed=False, tile=None, batch=2 if device.platform == "gpu" else 1)

    def bucket(self, shape: tuple[int, int]) -> None:
        return None  # no whole-octave loop: every octave takes tiles

    def is_out_of_memory(self, error: BaseException) -> bool:
        return isinstance(error, tf.errors.ResourceExhaustedError)

    def make_gradient_fn(self, extractor: Any, objective: Callable[..., Any]) -> GradientFn:
        return _Gradient(extractor, objective)

    def canvas(self, source: np.ndarray, padded_shape: Callable[[tuple[int, int]], tuple[int, int]]) -> HostCanvas:
        return HostCanvas(source)

    def tiled_stepper(self, gradient_fn: GradientFn, octave: TiledOctave) -> Stepper:
        """In the graph where one tile covers the octave and the gradient is scaled by its mean |g| (the
        default), else NumPy steps around the gradient of each tile."""
        one_tile = octave.layout.count == 1 and octave.params.normalization == "mean_abs"
        if one_tile and isinstance(gradient_fn, _Gradient):
            return _WholeTileStepper(gradient_fn, octave)
        return HostStepper(gradient_fn, octave)

    def octave_stepper(self, gradient_fn: GradientFn, octave: WholeOctave) -> ChunkedStepper | None:
        return None


BACKEND: Backend = TensorFlowBackend()  # mypy checks it against the interface
