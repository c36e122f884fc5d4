"""The dream objectives, per image in a batch, border excluded: weighted mean squared activations, or the
guided one (features matched to a guide image's)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import keras
from keras import ops

# Activations within this many pixels of the border are left out of the objective, as in the Keras
# example: padding artefacts there would otherwise dominate the gradient.
BORDER = 2


def _interior(length: Any, extent: Any) -> Any:
    """1 for the indices of an axis (of ``length``) that lie ``BORDER`` or more from both ends of its first
    ``extent`` indices, else 0.

    The border is masked out rather than sliced off: the gradient of a slice is a padding op, slow in bfloat16
    on the CPU (see docs/performance.md); the mask's gradient is one multiplication."""
    index = ops.arange(length)
    return ops.cast(ops.logical_and(index >= BORDER, index < extent - BORDER), "float32")


# (layer name, its activation with the chosen channels) -> a score per batch item and position
PositionScore = Callable[[str, Any], Any]


def _layer_sum(
    layers: Sequence[str], weights: Mapping[str, float], channels: Mapping[str, Sequence[int]], score: PositionScore
) -> Callable[..., Any]:
    """The objective both dreams share: each layer's ``score`` map, border excluded, averaged over its positions
    and channels, weighted and summed over the layers, one loss per batch item.

    ``extents`` (one (height, width) row per layer, may be traced) says how much of each activation is the
    image's when the input was padded beyond it: the objective then reads that top-left part alone, border
    excluded, as if the activation were that size."""

    def objective(activations: Sequence[Any] | Any, extents: Any = None) -> Any:
        if not isinstance(activations, (list, tuple)):  # a one-output model returns a bare tensor
            activations = [activations]
        total = 0.0
        for index, (name, activation) in enumerate(zip(layers, activations, strict=True)):
            if name in channels:
                activation = ops.take(activation, list(channels[name]), axis=-1)
            shape = ops.shape(activation)
            rows, cols = (shape[1], shape[2]) if extents is None else (extents[index][0], extents[index][1])
            size = ops.cast(rows * cols * shape[3], "float32")
            inside = _interior(shape[1], rows)[None, :, None] * _interior(shape[2], cols)[None, None, :]
            total = total + weights[name] * ops.sum(score(name, activation) * inside, axis=(1, 2)) / size
        return total

    return objective


def make_objective(
    layers: Sequence[str], weights: Mapping[str, float], channels: Mapping[str, Sequence[int]]
) -> Callable[..., Any]:
    """Weighted mean squared activations: a function from the extractor's activations (and optionally their
    ``extents``, see ``_layer_sum``) to one loss per batch item."""

    def energy(name: str, activation: Any) -> Any:
        return ops.sum(ops.square(ops.cast(activation, "float32")), axis=3)

    return _layer_sum(layers, weights, channels, energy)


def make_guided_objective(
    layers: Sequence[str],
    weights: Mapping[str, float],
    channels: Mapping[str, Sequence[int]],
    guide_features: Mapping[str, Any],
) -> Callable[..., Any]:
    """The DeepDream notebook's guided objective: at each position, the dot product of the dream's feature
    vector with the guide's best-matching one (``guide_features``: each layer's guide activation as a
    positions × channels array). Its gradient at a position is that guide vector, so the dream grows
    the guide's motifs wherever the image already looks most like them."""

    def best_match(name: str, activation: Any) -> Any:
        guide = ops.convert_to_tensor(guide_features[name], "float32")
        if name in channels:
            guide = ops.take(guide, list(channels[name]), axis=-1)
        return ops.max(ops.einsum("bhwc,nc->bhwn", ops.cast(activation, "float32"), guide), axis=3)

    return _layer_sum(layers, weights, channels, best_match)


def check_channels(extractor: keras.Model, layers: Sequence[str], channels: Mapping[str, Sequence[int]]) -> None:
    """Reject channel numbers a layer does not have, naming the valid range."""
    from reverie_wire.errors import BadRequest

    widths = {name: output.shape[-1] for name, output in zip(layers, extractor.outputs, strict=True)}
    for name, indices in channels.items():
        if name not in widths:
            raise BadRequest(f"channels given for {name}, which is not one of the dream's layers ({', '.join(layers)})")
        bad = [index for index in indices if index >= widths[name]]
        if bad:
            raise BadRequest(f"{name} has channels 0 to {widths[name] - 1}; got {bad}")
