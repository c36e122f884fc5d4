"""TensorFlow gradient step: one ``tf.function`` traced once for every tile and octave shape."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import tensorflow as tf


def make_gradient_fn(
    extractor: Any, objective: Callable[[Any], Any]
) -> Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]:
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
