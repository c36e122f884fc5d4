"""The dream objective: weighted mean squared activations, border excluded, per image in a batch."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import keras
from keras import ops

# Activations within this many pixels of the border are left out of the objective, as in the Keras
# example: padding artefacts there would otherwise dominate the gradient.
BORDER = 2


def _interior(length: Any) -> Any:
    """1 for the indices of an axis that lie ``BORDER`` or more from both ends, else 0.

    The border is masked out rather than sliced off: the gradient of a slice is a padding op, which in
    bfloat16 took ~7 % of a step on the CPU; the mask's gradient is one multiplication."""
    index = ops.arange(length)
    return ops.cast(ops.logical_and(index >= BORDER, index < length - BORDER), "float32")


def make_objective(
    layers: Sequence[str], weights: Mapping[str, float], channels: Mapping[str, Sequence[int]]
) -> Callable[[Sequence[Any]], Any]:
    """A function from the extractor's activations to one loss per batch item."""

    def objective(activations: Sequence[Any] | Any) -> Any:
        if not isinstance(activations, (list, tuple)):  # a one-output model returns a bare tensor
            activations = [activations]
        total = 0.0
        for name, activation in zip(layers, activations, strict=True):
            if name in channels:
                activation = ops.take(activation, list(channels[name]), axis=-1)
            shape = ops.shape(activation)
            size = ops.cast(shape[1] * shape[2] * shape[3], "float32")
            energy_map = ops.sum(ops.square(ops.cast(activation, "float32")), axis=3)
            inside = _interior(shape[1])[None, :, None] * _interior(shape[2])[None, None, :]
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
