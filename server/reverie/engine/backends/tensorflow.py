"""TensorFlow gradient step: one ``tf.function`` traced once for every tile and octave shape.

TensorFlow needs no fixed shapes (an unknown-size signature costs nothing on the CPU), so tiles are
only as large as the image needs and no pixel is computed twice; steps and octave changes run on the host
(see ``host``). XLA is left off: on the CPU it was slower than the plain graph (see docs/performance.md).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import tensorflow as tf

from reverie.engine.backends.base import (
    Backend,
    ChunkedStepper,
    Device,
    GradientFn,
    TiledOctave,
    TilePolicy,
    WholeOctave,
)
from reverie.engine.backends.host import HostCanvas, HostStepper


def _gradient_fn(extractor: Any, objective: Callable[..., Any]) -> GradientFn:
    """Gradients with respect to the image only: the weights are constants, never differentiated."""

    @tf.function(input_signature=[tf.TensorSpec([None, None, None, 3], tf.float32)], reduce_retracing=True)
    def step(tiles: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        with tf.GradientTape() as tape:
            tape.watch(tiles)
            losses = objective(extractor(tiles, training=False))
            total = tf.reduce_sum(losses)
        return losses, tape.gradient(total, tiles)

    def run(tiles: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        losses, gradients = step(tf.constant(tiles))
        return losses.numpy(), gradients.numpy()

    return run


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
        return _gradient_fn(extractor, objective)

    def canvas(self, source: np.ndarray, padded_shape: Callable[[tuple[int, int]], tuple[int, int]]) -> HostCanvas:
        return HostCanvas(source)

    def tiled_stepper(self, gradient_fn: GradientFn, octave: TiledOctave) -> HostStepper:
        return HostStepper(gradient_fn, octave)

    def octave_stepper(self, gradient_fn: GradientFn, octave: WholeOctave) -> ChunkedStepper | None:
        return None


BACKEND: Backend[GradientFn] = TensorFlowBackend()  # mypy checks it against the interface
