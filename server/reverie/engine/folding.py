"""The dream graph: a copy of a model with each inference batch normalisation folded into the
convolution before it, computed in a chosen precision, its max pools optionally scatter-free (``pooling``).

A dream never trains, so a batch normalisation is a fixed per-channel scale and shift. Folding it into
the convolution's kernel and bias removes one memory-bound pass over every activation, forwards and
backwards, and leaves the function unchanged up to rounding.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from keras import layers

from reverie.engine.pooling import SlicedMaxPooling2D


class _Folded(layers.Layer):
    """Stands where a folded batch normalisation was; takes its call arguments and passes data through."""

    def call(self, inputs: Any, training: Any = None, mask: Any = None) -> Any:
        return inputs


def _foldable_pairs(model: keras.Model) -> dict[str, str]:
    """``{batch norm: convolution}`` for each batch normalisation that reads a convolution read by nothing else."""
    pairs = {}
    for layer in model.layers:
        if not isinstance(layer, layers.BatchNormalization) or layer.axis not in (-1, 3):
            continue
        source = layer.input._keras_history.operation
        if isinstance(source, (layers.Conv2D, layers.DepthwiseConv2D)) and len(source._outbound_nodes) == 1:
            pairs[layer.name] = source.name
    return pairs


def _scale_and_shift(norm: layers.BatchNormalization) -> tuple[np.ndarray, np.ndarray]:
    """The batch normalisation as ``y = x * scale + shift``."""
    gamma = norm.gamma.numpy() if norm.scale else 1.0
    beta = norm.beta.numpy() if norm.center else 0.0
    scale = gamma / np.sqrt(norm.moving_variance.numpy() + norm.epsilon)
    return scale, beta - norm.moving_mean.numpy() * scale


def _folded_weights(conv: layers.Layer, norm: layers.BatchNormalization) -> list[np.ndarray]:
    scale, shift = _scale_and_shift(norm)
    kernel = conv.kernel.numpy()
    bias = conv.bias.numpy() if conv.use_bias else np.zeros_like(shift)
    if isinstance(conv, layers.DepthwiseConv2D):  # output channel c * multiplier + m sits at kernel[..., c, m]
        kernel = kernel * scale.reshape(kernel.shape[2], kernel.shape[3])
    else:
        kernel = kernel * scale
    return [kernel.astype(np.float32), (bias * scale + shift).astype(np.float32)]


def dream_graph(model: keras.Model, dtype_policy: str, scatter_free_pooling: bool = False) -> keras.Model:
    """A copy of ``model`` for inference gradients: batch normalisations folded, computed in ``dtype_policy``;
    with ``scatter_free_pooling`` its max pools are sliced ones (see ``pooling``)."""
    pairs = _foldable_pairs(model)
    convs = {conv: norm for norm, conv in pairs.items()}

    def clone(layer: layers.Layer) -> layers.Layer:
        if layer.name in pairs:
            return _Folded(name=layer.name, dtype=dtype_policy)
        if scatter_free_pooling and isinstance(layer, layers.MaxPooling2D):
            return SlicedMaxPooling2D.replacing(layer, dtype_policy)
        config = layer.get_config()
        config["dtype"] = dtype_policy
        if layer.name in convs:
            config["use_bias"] = True
        return layer.__class__.from_config(config)

    copy = keras.models.clone_model(model, clone_function=clone)
    for layer in model.layers:
        if layer.name in pairs or not layer.weights:
            continue
        target = copy.get_layer(layer.name)
        if layer.name in convs:
            target.set_weights(_folded_weights(layer, model.get_layer(convs[layer.name])))
        else:
            target.set_weights(layer.get_weights())
    return copy
