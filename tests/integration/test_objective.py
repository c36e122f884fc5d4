"""The dream objective against the Keras example's loss, with real TensorFlow."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from reverie.engine.objective import BORDER, make_objective


def sliced_loss(activations: list[np.ndarray], weights: list[float]) -> np.ndarray:
    """The Keras example's loss per batch item: squares without the border, over the activation's size."""
    total = np.zeros(len(activations[0]))
    for activation, weight in zip(activations, weights, strict=True):
        interior = activation[:, BORDER:-BORDER, BORDER:-BORDER, :].astype(np.float64)
        total += weight * np.square(interior).sum(axis=(1, 2, 3)) / np.prod(activation.shape[1:])
    return total


def test_masked_border_gives_the_sliced_loss_and_no_gradient_on_the_border() -> None:
    rng = np.random.default_rng(3)
    activations = [rng.normal(size=(2, 9, 12, 5)).astype(np.float32), rng.normal(size=(2, 6, 7, 3)).astype(np.float32)]
    objective = make_objective(("a", "b"), {"a": 1.0, "b": 2.5}, {})
    tensors = [tf.constant(activation) for activation in activations]
    with tf.GradientTape() as tape:
        tape.watch(tensors)
        losses = objective(tensors)
        total = tf.reduce_sum(losses)
    gradient = tape.gradient(total, tensors[0]).numpy()

    np.testing.assert_allclose(losses.numpy(), sliced_loss(activations, [1.0, 2.5]), rtol=1e-5)
    inside = np.zeros_like(gradient, dtype=bool)
    inside[:, BORDER:-BORDER, BORDER:-BORDER, :] = True
    assert not gradient[~inside].any()
    size = np.prod(activations[0].shape[1:])
    np.testing.assert_allclose(gradient[inside], 2 * activations[0][inside] / size, rtol=1e-5)


def test_bfloat16_activations_give_a_float32_loss() -> None:
    activation = tf.cast(tf.random.stateless_normal((1, 8, 8, 4), seed=(1, 2)), tf.bfloat16)
    loss = make_objective(("a",), {"a": 1.0}, {})([activation])
    assert loss.dtype == tf.float32
    np.testing.assert_allclose(loss.numpy(), sliced_loss([activation.numpy().astype(np.float32)], [1.0]), rtol=1e-5)
