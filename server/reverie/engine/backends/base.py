"""What the engine asks of a backend, and what it hands one: the types the octave loop, the tile planner, the
model and every backend share, in one module that imports no backend (see ``backends``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import numpy as np

from reverie.engine.params import DreamParams
from reverie.engine.tiling import TileLayout

# (tiles N×h×w×3 float32) -> (losses N, gradients N×h×w×3)
GradientFn = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]
# A backend's own gradient function: the engine calls it as a GradientFn, the backend's steppers as they like
# (JAX's on device arrays).
GradientT = TypeVar("GradientT", bound=GradientFn)


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
    call (a ``ChunkedStepper`` instead runs several per call)."""

    tiles: int
    shape: tuple[int, int]
    # True when ``step`` returns before the device has finished: its loss is a device scalar read later.
    asynchronous: bool

    def step(self, state: Any, shift: tuple[int, int]) -> tuple[Any, Any]:
        """Roll by ``shift``, step along the normalised tiled gradient, roll back, clip; returns (loss, state),
        the loss a float or, from an asynchronous stepper, anything ``float()`` turns into one."""
        ...


class ChunkedStepper(Protocol):
    """One octave's steps on its whole image padded to ``padded_shape``, several steps per call; it draws
    each step's jitter itself and stops at the dream's max_loss itself."""

    tiles: int
    shape: tuple[int, int]
    padded_shape: tuple[int, int]

    def chunk(self, remaining: int) -> int:
        """How many of the ``remaining`` steps the next call runs: progress and cancelling wait for its end."""
        ...

    def advance(self, state: Any, first: int, count: int) -> tuple[Any, list[float]]:
        """Steps ``first`` to ``first + count - 1``, waited for; returns the image and the losses of the steps
        that ran (fewer than ``count`` when the early stop ended the octave)."""
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


@dataclass(frozen=True)
class TiledOctave:
    """One octave of a dream, as a tiled stepper takes it."""

    params: DreamParams
    shape: tuple[int, int]
    layout: TileLayout
    batch: int  # tiles per gradient call
    should_cancel: Callable[[], bool] | None  # asked between batches, where a step waits for each
    strength: np.ndarray | None = None  # H×W float32 in [0, 1] at ``shape``: each pixel's share of a step


@dataclass(frozen=True)
class WholeOctave:
    """One octave of a dream, as a whole-octave stepper takes it."""

    params: DreamParams
    shape: tuple[int, int]
    padded_shape: tuple[int, int]  # the shape it computes on (see ``TilePlan.padded``)
    seed: int  # the dream's: each step's jitter is drawn from it
    number: int  # from 1
    strength: np.ndarray | None = None  # H×W float32 in [0, 1] at ``shape``: each pixel's share of a step


class Backend(Protocol[GradientT]):
    """What the engine asks of a Keras backend; the loop, the tile planner and the model know no other. Its
    steppers take the gradient function its ``make_gradient_fn`` made."""

    name: str  # Keras' name for it
    # Whether dream graphs take their max pools as slices (see ``pooling``).
    scatter_free_pooling: bool
    # Whether steps compile per tile grid and bucket, so that warm-up runs a step per octave of typical pictures.
    compiles_per_shape: bool

    def device(self) -> Device: ...

    def tile_policy(self, device: Device) -> TilePolicy: ...

    def bucket(self, shape: tuple[int, int]) -> tuple[int, int] | None:
        """The padded shape a whole octave of ``shape`` computes on; None where the backend has no such loop."""
        ...

    def is_out_of_memory(self, error: BaseException) -> bool: ...

    def make_gradient_fn(self, extractor: Any, objective: Callable[..., Any]) -> GradientT:
        """The gradient of the objective with respect to the input tiles."""
        ...

    def canvas(self, source: np.ndarray, padded_shape: Callable[[tuple[int, int]], tuple[int, int]]) -> Canvas:
        """Where the dream's image lives between octaves; ``padded_shape`` says how the tile plan pads an octave."""
        ...

    def tiled_stepper(self, gradient_fn: GradientT, octave: TiledOctave) -> Stepper:
        """Steps over the tiles of ``octave``'s layout, ``batch`` tiles at a time."""
        ...

    def octave_stepper(self, gradient_fn: GradientT, octave: WholeOctave) -> ChunkedStepper | None:
        """Steps on ``octave``'s whole image; None where there is no such loop."""
        ...
