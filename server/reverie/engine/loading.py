"""Loading a model's weights (ImageNet through Keras' cache, a local file, or seeded random) and
cutting it down to the layers a dream uses."""

from __future__ import annotations

import gc
import logging
import time
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from reverie.engine import backends
from reverie.engine.backends import Canvas, GradientFn, Stepper
from reverie.engine.params import DreamParams
from reverie.engine.precision import resolve as resolve_precision
from reverie.engine.registry import ModelSpec, get_spec
from reverie.engine.tiling import TileLayout, grid_span
from reverie.engine.weight_files import bundled_models, bundled_weights, cached_weights, keras_cache_dir
from reverie_wire.errors import BadRequest, WeightsMissing

log = logging.getLogger(__name__)

RANDOM = "random"
# No dream layer needs a larger input than this to have a usable activation.
_MAX_SIDE = 1024
# Tiles are never shrunk below this when memory runs out: smaller ones have almost no interior.
_MIN_TILE = 128
IMAGENET = "imagenet"
# The picture a device's warm-up dreams on: the size of the benchmarks' default dream, a common photo shape.
_WARM_UP_SHAPE = (768, 1024)
# Compiled objectives (and their extractors) kept per model unless ``keep_compiled`` says otherwise.
COMPILED_KEPT = 32
# How long tiles stay shrunk after the device ran out of memory; then full tiles are tried again (the memory
# may have been another process's, or one huge dream's).
MEMORY_CAP_SECONDS = 600.0


def _offline_message(spec: ModelSpec, cause: BaseException) -> str:
    cached = keras_cache_dir() / spec.weights_file
    bundled = [name for name in bundled_models() if name != spec.name]
    offer = (
        f"; or dream with a model that ships inside Reverie, no download needed: --model {bundled[0]} "
        f"(e.g. `reverie start --model {bundled[0]}`)"
        if bundled
        else ""
    )
    return (
        f"cannot load the ImageNet weights for {spec.name}: {spec.weights_file} is not in the Keras cache "
        f"({cached}) and downloading it failed ({type(cause).__name__}). Download {spec.weights_url} on a "
        f"machine with internet and copy it to {cached}, or pass --weights /path/to/{spec.weights_file}; "
        f"--weights random dreams without it{offer}"
    )


def build_imagenet(spec: ModelSpec) -> Any:
    """ImageNet weights from Keras' cache, else from the file shipped with Reverie, else downloaded by Keras
    into its cache (with a clear message when that fails)."""
    if cached_weights(spec) is None:
        bundled = bundled_weights(spec)
        if bundled is not None:
            with resources.as_file(bundled) as path:
                log.info("%s: ImageNet weights from the file shipped with Reverie (%s)", spec.name, path)
                return spec.build(str(path))
        log.info("%s: downloading ImageNet weights from %s into %s", spec.name, spec.weights_url, keras_cache_dir())
    try:
        return spec.build(IMAGENET)
    except Exception as error:  # Keras raises a bare Exception for a failed download
        if cached_weights(spec) is not None:
            raise
        raise WeightsMissing(_offline_message(spec, error)) from error


def _build_base(spec: ModelSpec, weights: str, seed: int) -> Any:
    import keras

    if weights == RANDOM:
        keras.utils.set_random_seed(seed)
        return spec.build(None)
    if weights == IMAGENET:
        return build_imagenet(spec)
    path = Path(weights).expanduser()
    if not path.is_file():
        raise WeightsMissing(
            f"weights file {path} does not exist; pass an .h5 weights file of {spec.name} "
            f"({spec.weights_file}), 'imagenet' or 'random'"
        )
    try:
        return spec.build(str(path))
    except (ValueError, OSError) as error:
        raise WeightsMissing(
            f"{path} is not a weights file for {spec.name} without its top ({spec.weights_file}): {error}"
        ) from error


# Keras dtype policies for each precision: bfloat16 computes in bf16 and keeps float32 weights.
_POLICIES = {"float32": "float32", "bfloat16": "mixed_bfloat16"}


@dataclass(frozen=True)
class TilePlan:
    """The tiles a dream uses now: shrunk for good when the device runs out of memory."""

    tile: int
    overlap: int
    batch: int
    fixed: bool
    bucket_pixels: int = 0  # the largest padded whole octave computed without tiles (0: none)
    bucket: Callable[[tuple[int, int]], tuple[int, int]] | None = None  # an octave's padded whole shape

    def layout(self, height: int, width: int, smallest: int) -> TileLayout:
        """The tiles of one image shape, none smaller than ``smallest`` (the layers' smallest input)."""
        return TileLayout.for_shape(height, width, self.tile, self.overlap, self.fixed, smallest)

    def whole(self, shape: tuple[int, int]) -> bool:
        """Whether an octave of ``shape`` runs on its whole padded image, without tiles."""
        if self.bucket is None:
            return False
        height, width = self.bucket(shape)
        return height * width <= self.bucket_pixels

    def padded(self, shape: tuple[int, int]) -> tuple[int, int]:
        """The shape a device keeps an octave of ``shape`` in: its bucket, else whole fixed tiles."""
        if self.bucket is not None and self.whole(shape):
            return self.bucket(shape)
        return grid_span(shape, self.tile) if self.fixed else shape


class DreamModel:
    """A loaded model kept warm; dream graphs, extractors and compiled gradients are built once and cached."""

    def __init__(self, spec: ModelSpec, base: Any, weights: str) -> None:
        self.spec = spec
        self.base = base
        self.weights = weights
        self._backend = backends.backend()
        self.backend = backends.backend_name()
        self._device = self._backend.device()
        self.device = self._device.name
        if self.backend == "jax" and self._device.platform == "cpu":
            log.warning(
                "Keras runs on JAX, which found no GPU (is jax[cuda12] installed?). On a CPU, TensorFlow dreams "
                "several times faster (InceptionV3's default dream took a seventh of JAX's time on a 2-core "
                "test machine): start with KERAS_BACKEND=tensorflow"
            )
        self._policy = self._backend.tile_policy(self._device)
        self._make_stepper = getattr(self._backend, "make_stepper", None)
        self._make_canvas = getattr(self._backend, "make_canvas", None)  # provided with make_stepper
        self._make_octave_stepper = getattr(self._backend, "make_octave_stepper", None)
        self._bucket = getattr(self._backend, "bucket", None)  # provided with make_octave_stepper
        self._bucket_cap: int | None = None
        self._tile_cap: int | None = None
        self._batch_cap: int | None = None
        self._capped_at = 0.0
        self._graphs: dict[str, Any] = {}
        # Least recently used first: each objective a client invents costs a compile, and only so many are kept.
        self.compiled_kept = COMPILED_KEPT
        self._extractors: OrderedDict[tuple[tuple[str, ...], str], Any] = OrderedDict()
        self._gradient_fns: OrderedDict[tuple[Any, ...], GradientFn] = OrderedDict()
        self._guided: tuple[tuple[Any, ...], GradientFn] | None = None
        self._min_sides: dict[tuple[str, ...], int] = {}

    def precision(self, requested: str) -> str:
        """The precision a dream asking for ``requested`` computes in here."""
        return resolve_precision(requested, self.backend, self._device)

    def _graph(self, precision: str) -> Any:
        if precision not in self._graphs:
            from reverie.engine.folding import dream_graph

            self._graphs[precision] = dream_graph(
                self.base, _POLICIES[precision], scatter_free_pooling=self._backend.SCATTER_FREE_POOLING
            )
        return self._graphs[precision]

    def extractor(self, layers: tuple[str, ...], precision: str | None = None) -> Any:
        """A model from the input to ``layers`` only: nothing deeper than the deepest layer is computed.

        Without a precision it reads the loaded model itself; with one, its folded dream graph."""
        key = (layers, precision or "")
        if key not in self._extractors:
            import keras

            source = self.base if precision is None else self._graph(precision)
            outputs = [source.get_layer(name).output for name in layers]
            self._extractors[key] = keras.Model(source.inputs, outputs, name=f"{self.spec.name}_dream")
        return _used(self._extractors, key, self.compiled_kept)

    def gradient_fn(
        self,
        layers: Mapping[str, float],
        channels: Mapping[str, Sequence[int]],
        precision: str = "auto",
        guide: np.ndarray | None = None,
    ) -> GradientFn:
        """The compiled gradient for one objective, built once: retracing per job would cost seconds.

        With a ``guide`` image the objective is the guided one; the last guided gradient is kept, so the
        frames of one zoom, or dreams repeated with one guide, trace it once."""
        precision = self.precision(precision)
        key = (tuple(layers.items()), tuple((name, tuple(c)) for name, c in channels.items()), precision)
        if guide is not None:
            return self._guided_gradient_fn(key, layers, channels, precision, guide)
        if key not in self._gradient_fns:
            from reverie.engine.objective import check_channels, make_objective

            names = tuple(layers)
            extractor = self.extractor(names, precision)
            check_channels(extractor, names, channels)
            self._gradient_fns[key] = backends.make_gradient_fn(extractor, make_objective(names, layers, channels))
        return _used(self._gradient_fns, key, self.compiled_kept)

    def _guided_gradient_fn(
        self,
        key: tuple[Any, ...],
        layers: Mapping[str, float],
        channels: Mapping[str, Sequence[int]],
        precision: str,
        guide: np.ndarray,
    ) -> GradientFn:
        import hashlib

        from reverie.engine.guide import guide_features
        from reverie.engine.objective import check_channels, make_guided_objective

        guided_key = (*key, guide.shape, hashlib.sha256(np.ascontiguousarray(guide).data).hexdigest())
        if self._guided is None or self._guided[0] != guided_key:
            names = tuple(layers)
            extractor = self.extractor(names, precision)
            check_channels(extractor, names, channels)
            features = guide_features(extractor, names, guide, self.min_side(names))
            objective = make_guided_objective(names, layers, channels, features)
            self._guided = (guided_key, backends.make_gradient_fn(extractor, objective))
        return self._guided[1]

    def tile_plan(self, params: DreamParams) -> TilePlan:
        """The dream's tile size and batch as this backend and device want them, within any memory cap."""
        if self._capped_at and time.monotonic() - self._capped_at > MEMORY_CAP_SECONDS:
            log.info("trying full tiles again %.0f s after the device ran out of memory", MEMORY_CAP_SECONDS)
            self._tile_cap = self._batch_cap = self._bucket_cap = None
            self._capped_at = 0.0
        tile = min(params.tile_size, self._policy.tile or params.tile_size, self._tile_cap or params.tile_size)
        overlap = params.tile_overlap if params.tile_overlap * 2 < tile else tile // 4
        batch = min(self._policy.batch, self._batch_cap or self._policy.batch)
        buckets = min(self._policy.bucket_pixels, self._bucket_cap or self._policy.bucket_pixels)
        return TilePlan(tile, overlap, batch, self._policy.fixed, buckets, self._bucket)

    def shrink_buckets(self, padded_shape: tuple[int, int]) -> None:
        """After a whole octave of ``padded_shape`` ran out of device memory: octaves as large go to tiles for
        MEMORY_CAP_SECONDS, like the tile caps (another program may have held the memory)."""
        self._bucket_cap = padded_shape[0] * padded_shape[1] - 1
        self._capped_at = time.monotonic()

    def shrink_tiles(self, plan: TilePlan) -> bool:
        """After running out of device memory: half the batch, else half the tile; False when nothing is left.
        The cap stays for later dreams for MEMORY_CAP_SECONDS, then full tiles are tried again."""
        if plan.batch > 1:
            self._batch_cap = plan.batch // 2
        elif plan.tile // 2 >= _MIN_TILE:
            self._tile_cap = plan.tile // 2
        else:
            return False
        self._capped_at = time.monotonic()
        return True

    def device_stepper(
        self, gradient_fn: GradientFn, layout: TileLayout, batch: int, params: DreamParams, shape: tuple[int, int]
    ) -> Stepper | None:
        """The backend's own stepper keeping the image on its device, where it has one."""
        if self._make_stepper is None:
            return None
        return self._make_stepper(
            gradient_fn, layout, batch, params.step_size, params.normalization, shape, params.lap_levels
        )

    def octave_stepper(
        self, gradient_fn: GradientFn, params: DreamParams, shape: tuple[int, int], seed: int, octave: int
    ) -> Stepper | None:
        """The backend's stepper running a whole octave's steps per call on its padded whole image, where it
        has one and the octave is small enough; it draws the jitter from ``seed`` itself."""
        if self._make_octave_stepper is None or not self.tile_plan(params).whole(shape):
            return None
        return self._make_octave_stepper(
            gradient_fn,
            shape,
            seed,
            octave,
            params.jitter,
            params.step_size,
            params.normalization,
            params.max_loss,
            params.lap_levels,
        )

    def canvas(self, source: np.ndarray, params: DreamParams) -> Canvas:
        """Where the dream's image lives between octaves: on the backend's device with its own steppers
        (padded to whole tiles or to the octave's bucket, as the tile plan says at that octave), else on the
        host."""
        if self._make_canvas is None:
            from reverie.engine.octaves import HostCanvas

            return HostCanvas(source)
        return self._make_canvas(source, lambda shape: self.tile_plan(params).padded(shape))

    def is_out_of_memory(self, error: BaseException) -> bool:
        return self._backend.is_out_of_memory(error)

    def warm_up(self, params: DreamParams | None = None) -> float:
        """Build and compile everything a dream with ``params`` needs, so the first request does not wait
        for it; returns the seconds it took. The server calls it at start-up."""
        started = time.perf_counter()
        params = params or DreamParams(model=self.spec.name)
        layers = self.spec.resolve_layers(params.preset, None if params.layers is None else dict(params.layers))
        gradient_fn = self.gradient_fn(layers, dict(params.channels), params.precision)
        self._compile_batches(gradient_fn, params, self.min_side(tuple(layers)))
        if self._make_stepper is not None:
            # A device compiles the small functions around the gradient per tile grid, and a whole octave's
            # loop per bucket, and a new process traces them again even when they are cached on disk: one
            # step per octave of typical pictures does both for their grids and buckets (any picture whose
            # octaves fall on the same ones finds them ready).
            from reverie.engine.octave_ascent import dream

            for shape in self._warm_up_shapes(params):
                dream(np.full((*shape, 3), 0.5, np.float32), params.replace(steps=1, max_loss=None), self)
        return time.perf_counter() - started

    def _warm_up_shapes(self, params: DreamParams) -> list[tuple[int, int]]:
        """A typical picture's size; where its octaves run whole, the four corners of its bucket instead: a
        picture of any size in that bucket has each smaller octave in one of two buckets per side, which the
        corners' octaves cover."""
        plan = self.tile_plan(params)
        bucket = plan.bucket
        if bucket is None or not plan.whole(_WARM_UP_SHAPE):
            return [_WARM_UP_SHAPE]
        top = bucket(_WARM_UP_SHAPE)

        def smallest(axis: int) -> int:
            side = top[axis]
            while side > 1 and bucket((side - 1, side - 1))[0] == top[axis]:
                side -= 1
            return side

        return [(height, width) for height in (smallest(0), top[0]) for width in (smallest(1), top[1])]

    def _compile_batches(self, gradient_fn: GradientFn, params: DreamParams, min_side: int) -> None:
        """Compile (by running) each tile batch the plan's dreams use, smallest first. Out of device memory,
        the tiles shrink and it starts again: a small GPU gets smaller batches, not a server that fails to
        start."""
        plan = self.tile_plan(params)
        side = max(plan.tile if plan.fixed else min(plan.tile, 512), min_side)
        for batch in [1 << i for i in range(plan.batch.bit_length())] if plan.fixed else [1]:
            try:
                gradient_fn(np.zeros((batch, side, side, 3), np.float32))
            except Exception as error:
                failed = TilePlan(plan.tile, plan.overlap, batch, plan.fixed)
                if not self.is_out_of_memory(error) or not self.shrink_tiles(failed):
                    raise
                smaller = self.tile_plan(params)
                log.warning(
                    "warm-up: out of device memory with %d tile(s) of %d² at once; dreams will use at most "
                    "%d tile(s) of %d²",
                    batch,
                    side,
                    smaller.batch,
                    smaller.tile,
                )
                self._compile_batches(gradient_fn, params, min_side)
                return

    def min_side(self, layers: tuple[str, ...]) -> int:
        """The smallest square input whose deepest activation keeps an interior after the 2-pixel border crop."""
        if layers not in self._min_sides:
            extractor = self.extractor(layers)
            self._min_sides[layers] = bisect_left(range(_MAX_SIDE), True, key=lambda side: _fits(extractor, side))
        return self._min_sides[layers]


def _used(cache: OrderedDict[Any, Any], key: Any, kept: int) -> Any:
    """``cache[key]``, marked most recently used; the least recently used beyond ``kept`` are dropped (and collected
    at once: compiled functions sit in reference cycles, which Python would free only at a later full collection)."""
    cache.move_to_end(key)
    if len(cache) > kept:
        while len(cache) > kept:
            cache.popitem(last=False)
        gc.collect()
    return cache[key]


def _fits(extractor: Any, side: int) -> bool:
    """Whether every activation of a side×side input keeps an interior after the objective's border crop."""
    from reverie.engine.objective import BORDER

    try:
        shapes = extractor.compute_output_shape((1, side, side, 3))
    except ValueError:  # Keras' word for "an activation would have no pixels"
        return False
    shapes = shapes if isinstance(shapes, list) else [shapes]
    return all(min(shape[1], shape[2]) > 2 * BORDER for shape in shapes)


@cache
def load_model(name: str = "inception_v3", weights: str = IMAGENET, seed: int = 0) -> DreamModel:
    """Build a model once per process; ``weights`` is "imagenet", "random" (seeded by ``seed``) or a file."""
    if not isinstance(weights, str) or not weights:
        raise BadRequest("weights must be 'imagenet', 'random' or the path of a weights file")
    spec = get_spec(name)
    backends.backend()  # the backend's settings (JAX: determinism, compile cache) must precede the first model
    return DreamModel(spec, _build_base(spec, weights, seed), weights)
