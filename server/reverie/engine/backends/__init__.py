"""Per-backend gradient steps: the only backend-specific code in the engine.

Each backend module (``tensorflow``, ``jax``) provides ``make_gradient_fn``, ``tile_policy``,
``is_out_of_memory``, ``device`` and ``SCATTER_FREE_POOLING`` (whether dream graphs take their max pools
as slices), and may provide ``make_stepper`` and ``make_canvas`` together, to keep the image on its device
between steps and octaves, and with them ``make_octave_stepper`` and ``bucket`` (an octave's whole padded
shape), to run a whole octave's steps per call on images its policy's ``bucket_pixels`` allow; nothing here
imports a framework until Keras' backend is known.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from types import ModuleType
from typing import Any, Protocol

import numpy as np

from reverie_wire.errors import ReverieError

# (tiles N×h×w×3 float32) -> (losses N, gradients N×h×w×3)
GradientFn = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]

SUPPORTED = ("tensorflow", "jax")


class Canvas(Protocol):
    """The dream's image from octave to octave, in the model's [-1, 1] range, where its steppers want it
    (a host array, or a device's): the first octave's, each next one's, and the finished dream's."""

    def first(self, shape: tuple[int, int]) -> Any:
        """The source image at the first octave's shape."""
        ...

    def grow(self, image: Any, shape: tuple[int, int], previous: tuple[int, int]) -> Any:
        """``image``, of the ``previous`` octave's shape, resized to ``shape``."""
        ...

    def reinject(self, image: Any, shape: tuple[int, int], previous: tuple[int, int]) -> Any:
        """``image`` (of ``shape``) with the detail the octaves lost since the ``previous`` shape put back.
        Apart from ``grow``, so that the image before it is gone before this runs: on the host it adds in
        place, and a large image's octave change holds two images at most, not three."""
        ...

    def result(self, image: Any) -> np.ndarray:
        """The dreamed image on the host, in [0, 1]."""
        ...


class Stepper(Protocol):
    """One octave's gradient steps on one image shape, on images where the canvas keeps them, a step per
    call (an ``OctaveStepper`` instead runs several per call and has ``chunked`` set)."""

    tiles: int
    shape: tuple[int, int]
    # True when ``step`` returns before the device has finished: its loss is a device scalar read later.
    asynchronous: bool

    def step(self, state: Any, shift: tuple[int, int]) -> tuple[Any, Any]:
        """Roll by ``shift``, step along the normalised tiled gradient, roll back, clip; returns (loss, state),
        the loss a float or, from an asynchronous stepper, anything ``float()`` turns into one."""
        ...


@dataclass(frozen=True)
class TilePolicy:
    """How a backend wants its tiles: ``fixed`` tiles are always ``tile``×``tile``, on a grid wrapped around
    the image (see ``tiling``), so one compiled shape serves every octave; ``tile`` None means the dream's
    tile_size, tiles fitted to the image and overlapping by its tile_overlap. An octave whose padded whole
    shape (the backend's ``bucket``) holds at most ``bucket_pixels`` takes no tiles at all."""

    fixed: bool
    tile: int | None
    batch: int
    bucket_pixels: int = 0


@dataclass(frozen=True)
class Device:
    platform: str  # "cpu" or "gpu"
    name: str


def _unsupported(name: str) -> ReverieError:
    return ReverieError(f"Keras backend {name!r} is not supported; set KERAS_BACKEND to tensorflow or jax, or unset it")


def backend_name() -> str:
    """Keras' backend, once Keras has started it; an unsupported one is one clear error, never a traceback."""
    requested = os.environ.get("KERAS_BACKEND")
    if requested is not None and requested not in SUPPORTED:
        raise _unsupported(requested)  # before Keras tries, and fails, to import it
    try:
        import keras
    except (ImportError, ValueError) as error:  # a backend from ~/.keras/keras.json that cannot load
        raise ReverieError(
            f"Keras cannot start its backend ({error}); set KERAS_BACKEND to tensorflow or jax"
        ) from None
    return keras.backend.backend()


def backend() -> ModuleType:
    """The module for Keras' current backend."""
    name = backend_name()
    if name not in SUPPORTED:
        raise _unsupported(name)
    return import_module(f"reverie.engine.backends.{name}")


def make_gradient_fn(extractor: Any, objective: Callable[[Any], Any]) -> GradientFn:
    """The gradient of the objective with respect to the input tiles, for Keras' current backend."""
    return backend().make_gradient_fn(extractor, objective)
