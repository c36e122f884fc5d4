"""The channels most active on a picture, per preset layer: where to start choosing ``--channels`` for it.

``reverie layers IN`` prints them. A channel's activity is its mean activation over the picture: the
channels that already answer most to a picture are the ones a dream of it grows first.
"""

from __future__ import annotations

import numpy as np

from reverie.engine.loading import DreamModel
from reverie.engine.octaves import resize
from reverie.engine.registry import ModelSpec
from reverie.imaging.pixels import to_dream_input

TOP = 5  # channels listed per layer
# The picture is read at most this long a side: means barely change with size, and a large photo costs no more.
SIDE = 512


def preset_layers(spec: ModelSpec) -> tuple[str, ...]:
    """The layers any of the model's presets uses, shallowest first."""
    used = {layer for layers in spec.presets.values() for layer in layers}
    return tuple(layer for layer in spec.dream_layers if layer in used)


def _fitted(image: np.ndarray, min_side: int) -> np.ndarray:
    """``image`` scaled so its long side is at most SIDE and its short side at least ``min_side``."""
    height, width = image.shape[:2]
    scale = max(min(1.0, SIDE / max(height, width)), min_side / min(height, width))
    shape = (max(min_side, round(height * scale)), max(min_side, round(width * scale)))
    return image if shape == (height, width) else resize(image, shape)


def most_active(
    model: DreamModel, image: np.ndarray, layers: tuple[str, ...], top: int = TOP
) -> dict[str, list[tuple[int, float]]]:
    """Each layer's ``top`` channels by mean activation on ``image`` (H×W×3 float32 in [0, 1]), strongest first."""
    from keras import ops

    fitted = _fitted(image, model.min_side(layers))
    outputs = model.extractor(layers)([fitted[None] * 2.0 - 1.0], training=False)
    outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    ranked = {}
    for layer, output in zip(layers, outputs, strict=True):
        means = ops.convert_to_numpy(ops.mean(ops.cast(output, "float32"), axis=(0, 1, 2)))
        order = np.argsort(-means, kind="stable")[:top]
        ranked[layer] = [(int(channel), float(means[channel])) for channel in order]
    return ranked


def describe(name: str, pixels: np.ndarray, model: DreamModel) -> str:
    """The lines ``reverie layers IN`` adds: each preset layer's most active channels on the picture ``name``
    (its ``pixels`` as read from the file)."""
    image = to_dream_input(pixels)
    lines = [f"channels most active on {name} (mean activation; try them with --channels LAYER:C,...):"]
    for layer, channels in most_active(model, image, preset_layers(model.spec)).items():
        lines.append(f"  {layer}: " + ", ".join(f"{channel} ({mean:.2f})" for channel, mean in channels))
    return "\n".join(lines)
