"""Steps and octave changes in NumPy on the host, around a backend's gradient: for backends that need no fixed
shapes (TensorFlow), where the image stays a host array from the first octave to the result."""

from __future__ import annotations

import numpy as np

from reverie.engine.backends.base import GradientFn, TiledOctave
from reverie.engine.backends.host_tiles import tiled_gradient
from reverie.engine.laplacian import lap_normalize
from reverie.engine.octaves import reinject_detail, resize

# Rows per slice when NumPy walks a whole image: temporaries stay megabytes, not an image's size.
_ROWS = 256


def _scale(gradient: np.ndarray, normalization: str) -> float:
    """mean|g| or std(g), summed in float64 over row slices: temporaries stay a slice's size, never the image's."""
    parts = [gradient[row : row + _ROWS] for row in range(0, len(gradient), _ROWS)]  # views, not copies
    count = gradient.size
    if normalization == "std":
        mean = sum(float(part.sum(dtype=np.float64)) for part in parts) / count
        scale = (sum(float(np.square(part - mean).sum(dtype=np.float64)) for part in parts) / count) ** 0.5
    else:
        scale = sum(float(np.abs(part).sum(dtype=np.float64)) for part in parts) / count
    return scale if scale > 0 else 1.0  # any non-zero scale, however tiny, is a direction


class HostStepper:
    """One octave's steps in NumPy around the backend's gradient.

    The image is updated in place; the jitter shift lives in the tiles' indices (see ``tiled_gradient``),
    so a step holds the image, its gradient and one batch of tiles, and nothing else image-sized."""

    asynchronous = False

    def __init__(self, gradient_fn: GradientFn, octave: TiledOctave) -> None:
        self.tiles = octave.layout.count
        self.shape = octave.shape
        self._gradient_fn = gradient_fn
        self._octave = octave

    def step(self, image: np.ndarray, shift: tuple[int, int]) -> tuple[float, np.ndarray]:
        octave, params = self._octave, self._octave.params
        loss, gradient = tiled_gradient(
            image, octave.layout, self._gradient_fn, octave.batch, shift, octave.should_cancel
        )
        if params.normalization == "laplacian":  # then scaled by mean |g| like mean_abs, below
            gradient = lap_normalize(gradient, params.lap_levels)
        rate = params.step_size / _scale(gradient, params.normalization)
        for row in range(0, len(image), _ROWS):
            part, move = image[row : row + _ROWS], gradient[row : row + _ROWS]
            move *= rate
            if octave.strength is not None:  # painted strength: each pixel moves its share of the step
                move *= octave.strength[row : row + _ROWS, :, None]
            part += move
            np.clip(part, -1.0, 1.0, out=part)
        return loss, image


class HostCanvas:
    """The dream's image between octaves as NumPy arrays, resized with Pillow band by band: on the host,
    Pillow's resize is faster than a compiled one and holds less."""

    def __init__(self, source: np.ndarray) -> None:
        self._source = source

    def first(self, shape: tuple[int, int]) -> np.ndarray:
        image = resize(self._source, shape)
        image *= 2.0
        image -= 1.0  # the model's range, [-1, 1]
        return image

    def grow(self, image: np.ndarray, shape: tuple[int, int], previous: tuple[int, int]) -> np.ndarray:
        return resize(image, shape)

    def reinject(self, image: np.ndarray, shape: tuple[int, int], previous: tuple[int, int]) -> np.ndarray:
        reinject_detail(image, self._source, previous)  # in place: no second image-sized array
        return image

    def result(self, image: np.ndarray) -> np.ndarray:
        image += 1.0
        image *= 0.5
        return np.clip(image, 0.0, 1.0, out=image)
