"""A whole octave's steps on the whole image in one compiled call, for images of up to a few megapixels.

Every step of a tiled dream is several dispatches with host work between, and fixed tiles compute the
padding of their wrapped grid too. Here the octave's image is padded to a bucket (each side rounded up to
``BUCKET`` pixels: a few compiled shapes serve every size), its true size travels as a traced value (see
``jax_padded``), and a ``lax.while_loop`` runs the steps on the device: the jitter's shifts drawn from the
dream's seed, the roll within the true size, the gradient with the objective read over the activations of
the true size alone (``objective``'s extents), normalised over the true pixels (laplacian: its pyramid over
the true part, see ``laplacian.lap_normalize_padded``), each pixel's step scaled by a painted strength map where
the dream has one (an input of the loop, uploaded once per octave: the gradient is rolled back before the step,
so the map stays where it was painted), the early stop at
``max_loss``. The loop's bound is traced too, so the host can run an octave in chunks of any number of
steps without a compile, reporting progress and asking about cancelling between chunks.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from reverie.engine.backends import jax_padded as padded_image
from reverie.engine.backends.base import WholeOctave
from reverie.engine.backends.jax_compile import COMPILE_OPTIONS
from reverie.engine.laplacian import lap_normalize_padded
from reverie.engine.tiling import grid_span

# Each side of an octave's padded image is a multiple of this: at most 127 pixels of padding per side.
BUCKET = 128
# The most steps one call runs (the size of its loss buffer).
CAPACITY = 64
# How long one call should last: progress and cancelling wait for a call's end.
CHUNK_SECONDS = 0.25


def bucket(shape: tuple[int, int]) -> tuple[int, int]:
    """The padded shape an octave of ``shape`` computes on."""
    return grid_span(shape, BUCKET)


def shift(key: jax.Array, step: jax.Array, reach: jax.Array) -> jax.Array:
    """The jitter (rows, columns) of one step, each in [-reach, reach], drawn from the octave's key."""
    return jax.random.randint(jax.random.fold_in(key, step), (2,), -reach, reach + 1)


def octave_key(seed: jax.Array, octave: jax.Array) -> jax.Array:
    return jax.random.fold_in(jax.random.key(seed), octave)


def stop_threshold(max_loss: float | None) -> np.float32:
    """``max_loss`` as the float32 t for which a float32 loss x > t exactly when float(x) > max_loss, as the
    host's tally compares; infinite when there is no early stop."""
    if max_loss is None:
        return np.float32(np.inf)
    threshold = np.float32(max_loss)
    return np.nextafter(threshold, np.float32(-np.inf)) if float(threshold) > max_loss else threshold


def device_strength(strength: np.ndarray | None, padded: tuple[int, int]) -> jax.Array | None:
    """An octave's strength map (H×W) on the device, padded with zeros to ``padded`` and ready to scale an
    H×W×3 step; None without a map (the compiled step then has no multiply)."""
    if strength is None:
        return None
    return jnp.asarray(padded_image.padded_to(strength[:, :, None], padded))


def normalized(
    gradient: jax.Array, inside: jax.Array, size: jax.Array, normalization: str, lap_levels: int
) -> jax.Array:
    """The step's direction: the gradient (zero on the padding) divided by mean|g| or std(g) over the true
    pixels; laplacian first scales each band of the true part's pyramid alike, then divides by mean|g|, as
    the host loop does."""
    if normalization == "laplacian":
        gradient = lap_normalize_padded(gradient, size, lap_levels, jnp)
    pixels = (size[0] * size[1] * 3).astype(jnp.float32)
    return gradient / _scale(gradient, inside, pixels, normalization)


def _scale(gradient: jax.Array, inside: jax.Array, pixels: jax.Array, normalization: str) -> jax.Array:
    """mean|g| (also after a laplacian pyramid) or std(g) over the true pixels (the padding's gradient is
    zero)."""
    if normalization == "std":
        mean = gradient.sum() / pixels
        scale = jnp.sqrt(jnp.where(inside, jnp.square(gradient - mean), 0.0).sum() / pixels)
    else:
        scale = jnp.abs(gradient).sum() / pixels
    return jnp.where(scale > 0, scale, 1.0)


def _steps(
    loss_of: Callable[..., jax.Array],
    image: jax.Array,
    size: jax.Array,
    extents: jax.Array,
    seed: jax.Array,
    octave: jax.Array,
    first: jax.Array,
    count: jax.Array,
    reach: jax.Array,
    step_size: jax.Array,
    threshold: jax.Array,
    weights: tuple[list[Any], list[Any]],
    strength: jax.Array | None = None,
    *,
    normalization: str,
    lap_levels: int = 0,
) -> tuple[jax.Array, jax.Array, jax.Array]:
    """Steps ``first`` to ``first + count - 1`` of an octave (fewer when a loss passes the threshold: that
    step is kept, as the host loop keeps it), each pixel's step scaled by ``strength`` where there is a map;
    returns (image, losses of the steps run, how many ran)."""
    padded = image.shape[:2]
    inside = padded_image.valid(padded, size)[..., None]
    key = octave_key(seed, octave)
    value_and_grad = jax.value_and_grad(loss_of)

    def body(carry: tuple[Any, ...]) -> tuple[Any, ...]:
        step, image, losses, _ = carry
        offset = shift(key, step, reach)
        jittered = jnp.where(inside, padded_image.rolled(image, size, offset, padded), 0.0)
        loss, gradient = value_and_grad(jittered, extents, weights)
        gradient = jnp.where(inside, padded_image.rolled(gradient, size, -offset, padded), 0.0)
        direction = normalized(gradient, inside, size, normalization, lap_levels)
        moved = image + step_size * (direction if strength is None else direction * strength)
        image = jnp.where(inside, jnp.clip(moved, -1.0, 1.0), 0.0)
        # a dynamic slice update, not a scatter: deterministic GPU compiles refuse some scatters
        losses = jax.lax.dynamic_update_slice(losses, loss[None].astype(jnp.float32), (step - first,))
        return step + 1, image, losses, loss > threshold

    def more(carry: tuple[Any, ...]) -> jax.Array:
        step, _, _, stopped = carry
        return (step < first + count) & ~stopped

    start = (first, image, jnp.zeros(CAPACITY, jnp.float32), jnp.asarray(False))
    step, image, losses, _ = jax.lax.while_loop(more, body, start)
    return image, losses, step - first


class ActivationExtents:
    """Each layer's activation size for an input size, without Keras' shape inference per size (slow for a
    deep model, and paid per octave of every new picture size otherwise).

    Along an axis, a convolution or pool maps n input pixels to floor((n - k) / s) + 1 outputs ("same"
    padding: k = 1), and such maps compose into one of that form: so a few inferences fit each layer's k
    and s for good. A fit that does not predict a check size exactly (an unusual layer) falls back to
    inferring every size."""

    _BASE = 1024  # probe sizes: multiples of any power-of-two stride up to it

    def __init__(self, extractor: Any) -> None:
        self._extractor = extractor
        self._inferred: dict[tuple[int, int], np.ndarray] = {}
        self._fit: tuple[np.ndarray, np.ndarray] | None = None
        self._fitted = False

    def infer(self, shape: tuple[int, int]) -> np.ndarray:
        """(layers, 2) activation sizes by Keras' shape inference."""
        if shape not in self._inferred:
            shapes = self._extractor.compute_output_shape((1, *shape, 3))
            shapes = shapes if isinstance(shapes, list) else [shapes]
            self._inferred[shape] = np.asarray([output[1:3] for output in shapes], np.int64)
        return self._inferred[shape]

    def _fitted_maps(self) -> tuple[np.ndarray, np.ndarray] | None:
        base = self._BASE
        low, high = self.infer((base, base)), self.infer((2 * base, 2 * base))
        if (high <= low).any() or (base % (high - low)).any():
            return None
        strides = base // (high - low)
        offsets = np.empty_like(strides)
        for index in np.ndindex(strides.shape):
            # the first size past ``base`` with one more output is offset + stride × (outputs at ``base``)
            below, above = base, base + int(strides[index])
            while above - below > 1:
                middle = (below + above) // 2
                below, above = (below, middle) if self.infer((middle, middle))[index] > low[index] else (middle, above)
            offsets[index] = above - strides[index] * low[index]
        check = (base + base // 2 + 7, base + 5)
        return (strides, offsets) if np.array_equal(self._apply(check, strides, offsets), self.infer(check)) else None

    @staticmethod
    def _apply(shape: tuple[int, int], strides: np.ndarray, offsets: np.ndarray) -> np.ndarray:
        return (np.asarray(shape)[None, :] - offsets) // strides + 1

    def __call__(self, shape: tuple[int, int]) -> np.ndarray:
        if not self._fitted:
            self._fit, self._fitted = self._fitted_maps(), True
        if self._fit is None:
            return self.infer(shape).astype(np.int32)
        return self._apply(shape, *self._fit).astype(np.int32)


class OctaveLoop:
    """The compiled octave loop of one objective, and how long its steps take on each bucket (to size the
    chunks); one per compiled gradient."""

    def __init__(self, extractor: Any, objective: Callable[..., Any], weights: tuple[list[Any], list[Any]]) -> None:
        self._weights = weights
        self.extents = ActivationExtents(extractor)
        self._called: set[tuple[tuple[int, ...], str, int, bool]] = set()
        self.step_seconds: dict[tuple[int, int], float] = {}

        def loss_of(image: jax.Array, extents: jax.Array, weights: tuple[list[Any], list[Any]]) -> jax.Array:
            activations, _ = extractor.stateless_call(*weights, image[None], training=False)
            return objective(activations, extents)[0]

        self._run = jax.jit(
            partial(_steps, loss_of), static_argnames=("normalization", "lap_levels"), compiler_options=COMPILE_OPTIONS
        )

    def run(
        self,
        image: jax.Array,
        size: np.ndarray,
        extents: np.ndarray,
        *arguments: Any,
        strength: jax.Array | None = None,
        normalization: str,
        lap_levels: int,
    ) -> Any:
        """Dispatch a chunk; True beside it when this is the bucket's first call here (it compiles, or loads
        from the compile cache, so its time says nothing about the steps)."""
        levels = lap_levels if normalization == "laplacian" else 0  # other normalisations share one compile
        key = (image.shape[:2], normalization, levels, strength is None)
        compiles = key not in self._called
        self._called.add(key)
        run = self._run(
            image, size, extents, *arguments, self._weights, strength, normalization=normalization, lap_levels=levels
        )
        return run, compiles


class OctaveStepper:
    """One octave's steps on its whole image padded to ``padded_shape`` (a bucket), a chunk of them per call."""

    tiles = 1

    def __init__(self, loop: OctaveLoop, octave: WholeOctave) -> None:
        params = octave.params
        self.shape = octave.shape
        self.padded_shape = octave.padded_shape
        self._loop = loop
        self._normalization = params.normalization
        self._lap_levels = params.lap_levels
        self._size = padded_image.size_of(octave.shape)
        # each layer's activation size for the true size: the top-left part of the padded input's (valid
        # convolutions and pools make it so) that the objective reads
        self._extents = loop.extents(octave.shape)
        self._strength = device_strength(octave.strength, octave.padded_shape)
        self._constants = (
            np.uint32(octave.seed),
            np.int32(octave.number),
            np.int32(params.jitter),
            np.float32(params.step_size),
            stop_threshold(params.max_loss),
        )

    def chunk(self, remaining: int) -> int:
        """How many steps the next call runs: about ``CHUNK_SECONDS`` of them at the bucket's measured pace,
        one while it has none."""
        seconds = self._loop.step_seconds.get(self.padded_shape)
        steps = 1 if seconds is None else int(CHUNK_SECONDS / max(seconds, 1e-6))
        return max(1, min(steps, remaining, CAPACITY))

    def advance(self, image: jax.Array, first: int, count: int) -> tuple[jax.Array, list[float]]:
        """Run steps ``first`` (from 1) to ``first + count - 1``, waiting for them; returns the image and the
        losses of the steps run (fewer than ``count`` when the early stop ended the octave)."""
        if image.shape[:2] != self.padded_shape:  # padded otherwise by another stepper: refit
            image = padded_image.refit(image, self.padded_shape)
        seed, octave, reach, step_size, threshold = self._constants
        started = time.perf_counter()
        (image, losses, ran), compiled = self._loop.run(
            image,
            self._size,
            self._extents,
            seed,
            octave,
            np.int32(first),
            np.int32(count),
            reach,
            step_size,
            threshold,
            strength=self._strength,
            normalization=self._normalization,
            lap_levels=self._lap_levels,
        )
        ran = int(ran)
        values = np.asarray(losses)[:ran].tolist()
        if not compiled and ran:
            self._loop.step_seconds[self.padded_shape] = (time.perf_counter() - started) / ran
        return image, values
