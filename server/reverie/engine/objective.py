"""The dream objective: weighted mean squared activations, border excluded, per image in a batch."""

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

    The border is masked out rather than sliced off: the gradient of a slice is a padding op, which in
    bfloat16 took ~7 % of a step on the CPU; the mask's gradient is one multiplication."""
    index = ops.arange(length)
    return ops.cast(ops.logical_and(index >= BORDER, index < extent - BORDER), "float32")


def make_objective(
    layers: Sequence[str], weights: Mapping[str, float], channels: Mapping[str, Sequence[int]]
) -> Callable[[Sequence[Any]], Any]:
    """A function from the extractor's activations to one loss per batch item.

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
            energy_map = ops.sum(ops.square(ops.cast(activation, "float32")), axis=3)
            inside = _interior(shape[1], rows)[None, :, None] * _interior(shape[2], cols)[None, None, :]
            energy = ops.sum(energy_map * inside, axis=(1, 2))
            total = total + weights[name] * energy / size
        return total

    return objective


def check_channels(extractor: keras.Model, layers: Sequence[str], channels: Mapping[str, Sequence[int]]) -> None:
    """Reject channel numbers a layer does not have, naming the valid range."""
    from reverie.errors import BadRequest

    widths = {name: output.shape[-1] for name, output in zip(layers, extractor.outputs, strict=True)}
    for name, indices in channels.items():
        if name not in widths:
            raise BadRequest(f"channels given for {name}, which is not one of the dream's layers ({', '.join(layers)})")
        bad = [index for index in indices if index >= widths[name]]
        if bad:
            raise BadRequest(f"{name} has channels 0 to {widths[name] - 1}; got {bad}")
