"""Scatter-free max pooling against Keras' own, with real TensorFlow: same values, same gradients."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import layers

from reverie.engine.folding import dream_graph
from reverie.engine.pooling import SlicedMaxPooling2D

POOLS = [((3, 3), (2, 2)), ((2, 2), (2, 2)), ((3, 3), (1, 1)), ((3, 2), (1, 2))]


@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("size", [(7, 9), (8, 8), (11, 6)])
@pytest.mark.parametrize(("pool", "strides"), POOLS)
def test_values_and_gradients_match_keras_max_pooling(padding, size, pool, strides) -> None:
    image = tf.constant(np.random.default_rng(0).normal(size=(2, *size, 4)).astype(np.float32))
    weights = tf.constant(np.random.default_rng(1).normal(size=(1, 1, 1, 4)).astype(np.float32))
    results = []
    for layer in (layers.MaxPooling2D(pool, strides, padding), SlicedMaxPooling2D(pool, strides, padding)):
        with tf.GradientTape() as tape:
            tape.watch(image)
            pooled = layer(image)
            total = tf.reduce_sum(pooled * weights)
        results.append((pooled.numpy(), tape.gradient(total, image).numpy()))
    (want, want_gradient), (got, got_gradient) = results
    assert got.shape == want.shape
    np.testing.assert_array_equal(got, want)
    np.testing.assert_allclose(got_gradient, want_gradient, rtol=1e-6, atol=1e-6)


def test_a_window_of_equal_maxima_passes_on_its_gradient_once() -> None:
    image = tf.ones((1, 2, 2, 1))
    with tf.GradientTape() as tape:
        tape.watch(image)
        total = tf.reduce_sum(SlicedMaxPooling2D((2, 2), (2, 2), "valid")(image))
    assert tape.gradient(total, image).numpy().sum() == pytest.approx(1.0)


def test_inception_dream_graph_pools_by_slices_and_computes_the_same() -> None:
    keras.utils.set_random_seed(0)
    base = keras.applications.InceptionV3(weights=None, include_top=False)
    graph = dream_graph(base, "float32", scatter_free_pooling=True)
    pools = [layer for layer in graph.layers if "max_pooling" in layer.name]
    assert len(pools) == 4 and all(isinstance(layer, SlicedMaxPooling2D) for layer in pools)
    image = np.random.default_rng(2).uniform(-1, 1, (1, 139, 171, 3)).astype(np.float32)
    want = np.asarray(keras.Model(base.inputs, base.get_layer("mixed3").output)(image, training=False))
    got = np.asarray(keras.Model(graph.inputs, graph.get_layer("mixed3").output)(image, training=False))
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4 * np.abs(want).max())
