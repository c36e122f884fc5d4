"""What each channel of a layer dreams of: one small picture per channel, grown from seeded noise.

The engine's dream takes one picture with one objective, so an atlas of 256 channels through it would
compile 256 objectives. Here a batch of pictures is dreamed at once, each towards its own channel (the
objective of ``--channels LAYER:C``: its mean squared activation), with the engine's parts: the model's
extractor and compiled gradient, Laplacian normalisation, octave resizing. Each picture's noise and jitter
come from its own channel's seed, so a tile is the same whichever channels share its batch.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from reverie.engine.laplacian import lap_normalize
from reverie.engine.loading import DreamModel
from reverie.engine.octaves import octave_shapes, resize
from reverie_wire.errors import BadRequest

# Pixels a gradient call takes at most (batch × side²): bounds memory whatever the layer's render size.
BATCH_PIXELS = 2_000_000
# What the command line may change, and within what.
LIMITS = {"size": (32, 512), "octaves": (1, 6), "steps": (1, 500), "seed": (0, 2**32 - 1)}


@dataclass(frozen=True)
class AtlasSettings:
    """How each tile is dreamed; every field is part of the cache's key."""

    size: int = 128  # the tile's side on the sheet
    octaves: int = 3
    octave_scale: float = 1.4
    steps: int = 20  # per octave
    step_size: float = 0.05
    lap_levels: int = 4
    jitter: int = 32
    noise: float = 0.1  # the starting noise's standard deviation, around mid-grey (see ``starting_noise``)
    seed: int = 0

    def __post_init__(self) -> None:
        for name, (low, high) in LIMITS.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise BadRequest(f"the atlas's {name} must be a whole number from {low} to {high}, got {value!r}")


def render_side(settings: AtlasSettings, min_side: int) -> int:
    """The side a tile is dreamed at: its size, or more where the layer's smallest input times the octaves
    needs more (the tile is then shrunk to its size)."""
    return max(settings.size, math.ceil(min_side * settings.octave_scale ** (settings.octaves - 1)))


def channel_objective(channels: Sequence[int]) -> Callable[..., Any]:
    """Batch item ``i``'s loss: the mean squared activation of channel ``channels[i]``, border excluded, as
    ``objective.make_objective`` scores one channel."""
    from keras import ops

    from reverie.engine.objective import BORDER

    choice = np.eye(max(channels) + 1, dtype=np.float32)[list(channels)]  # item × channel, one-hot

    def objective(activation: Any, extents: Any = None) -> Any:
        if isinstance(activation, (list, tuple)):
            (activation,) = activation
        mine = ops.einsum("bhwc,bc->bhw", ops.cast(activation[..., : choice.shape[1]], "float32"), choice)
        inside = ops.square(mine)[:, BORDER:-BORDER, BORDER:-BORDER]
        return ops.mean(inside, axis=(1, 2))

    return objective


# The starting noise's scales, in pixels; each is weighted by the square root of its scale.
NOISE_SCALES = (1, 2, 4, 8, 16, 32)


def starting_noise(rng: np.random.Generator, shape: tuple[int, int], std: float) -> np.ndarray:
    """Noise with more of its strength in coarse blobs than in single pixels, of standard deviation ``std``.

    Deep channels answer shapes, not speckle: from white noise 38 of MobileNet's 256 conv_pw_12_relu channels
    never fired at all (their ReLU stayed at 0, so no gradient reached the picture), from this noise 23
    (docs/atlas.md)."""
    total = np.zeros((*shape, 3), np.float32)
    for scale in NOISE_SCALES:
        coarse = rng.normal(0.0, 1.0, (max(2, shape[0] // scale), max(2, shape[1] // scale), 3)).astype(np.float32)
        total += resize(coarse, shape) * np.float32(math.sqrt(scale))
    return total * np.float32(std / max(float(total.std()), 1e-10))


def _jitter(rng: np.random.Generator, reach: int) -> tuple[int, int]:
    return int(rng.integers(-reach, reach + 1)), int(rng.integers(-reach, reach + 1))


def _dream_batch(
    model: DreamModel,
    layer: str,
    channels: Sequence[int],
    settings: AtlasSettings,
    shapes: list[tuple[int, int]],
    stepped: Callable[[], None],
) -> np.ndarray:
    """One batch of channels dreamed from noise through ``shapes``; float RGB in [0, 1], the last shape.
    ``stepped`` hears each gradient step (and may raise to stop the batch)."""
    precision = model.precision("auto")
    gradient_fn = model.backend.make_gradient_fn(model.extractor((layer,), precision), channel_objective(channels))
    rngs = [np.random.default_rng([settings.seed, channel]) for channel in channels]
    images = np.stack([starting_noise(rng, shapes[0], 2 * settings.noise) for rng in rngs])
    for number, shape in enumerate(shapes):
        if number:
            images = np.stack([resize(image, shape) for image in images])
        for _ in range(settings.steps):
            shifts = [_jitter(rng, settings.jitter) for rng in rngs]
            rolled = np.stack([np.roll(image, shift, (0, 1)) for image, shift in zip(images, shifts, strict=True)])
            _, gradients = gradient_fn(rolled)
            for image, gradient, shift in zip(images, np.asarray(gradients, np.float32), shifts, strict=True):
                move = lap_normalize(np.roll(gradient, (-shift[0], -shift[1]), (0, 1)), settings.lap_levels)
                image += settings.step_size / max(float(np.abs(move).mean()), 1e-10) * move
                np.clip(image, -1.0, 1.0, out=image)
            stepped()
    return (images + 1.0) / 2.0


def _batches(channels: Sequence[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(channels), size):
        yield list(channels[start : start + size])


def render_channels(
    model: DreamModel,
    layer: str,
    channels: Sequence[int],
    settings: AtlasSettings,
    on_step: Callable[[float], None] | None = None,
) -> Iterator[tuple[int, np.ndarray]]:
    """Each channel's tile (size × size × 3 uint8) as its batch is done; ``on_step`` hears the fraction of the
    whole render done after each gradient step (and may raise to stop it: a server's cancel)."""
    min_side = model.min_side((layer,))
    side = render_side(settings, min_side)
    shapes, _ = octave_shapes(side, side, settings.octaves, settings.octave_scale, min_side)
    batches = list(_batches(channels, max(1, BATCH_PIXELS // (side * side))))
    total = len(batches) * len(shapes) * settings.steps
    done = 0

    def stepped() -> None:
        nonlocal done
        done += 1
        if on_step is not None:
            on_step(done / total)

    for batch in batches:
        for channel, image in zip(batch, _dream_batch(model, layer, batch, settings, shapes, stepped), strict=True):
            tile = resize(image, (settings.size, settings.size))
            yield channel, np.round(np.clip(tile, 0.0, 1.0) * 255).astype(np.uint8)
