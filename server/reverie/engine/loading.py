"""A model loaded once and kept warm: its dream graphs, extractors and compiled gradients are built on first use
and cached, and its tile planner remembers what the device's memory allowed."""

from __future__ import annotations

import hashlib
import logging
from bisect import bisect_left
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any, Generic

import numpy as np

from reverie.engine import backends
from reverie.engine.backends.base import Backend, GradientT
from reverie.engine.compiled import CompiledCache
from reverie.engine.eta import StepTimes
from reverie.engine.precision import resolve as resolve_precision
from reverie.engine.registry import ModelSpec, get_spec
from reverie.engine.tile_planner import TilePlanner
from reverie.engine.weights import IMAGENET, build_base
from reverie_wire.errors import BadRequest

log = logging.getLogger(__name__)

# No dream layer needs a larger input than this to have a usable activation.
_MAX_SIDE = 1024
# Keras dtype policies for each precision: bfloat16 computes in bf16 and keeps float32 weights.
_POLICIES = {"float32": "float32", "bfloat16": "mixed_bfloat16"}


class DreamModel(Generic[GradientT]):
    """A loaded model on one backend: what a dream needs of it, each built once; its gradient functions are
    the backend's own, for the backend's steppers."""

    def __init__(self, spec: ModelSpec, base: Any, weights: str, backend: Backend[GradientT]) -> None:
        self.spec = spec
        self.base = base
        self.weights = weights
        self.backend = backend
        self._device = backend.device()
        self.device = self._device.name
        if backend.name == "jax" and self._device.platform == "cpu":
            log.warning(
                "Keras runs on JAX, which found no GPU (is jax[cuda12] installed?). On a CPU, TensorFlow dreams "
                "several times faster: start with KERAS_BACKEND=tensorflow"
            )
        self.tiles = TilePlanner(backend.tile_policy(self._device), backend.bucket, backend.is_out_of_memory)
        self._graphs: dict[str, Any] = {}
        self._extractors: CompiledCache[Any] = CompiledCache()
        self._gradients: CompiledCache[GradientT] = CompiledCache()
        self._guided: tuple[tuple[Any, ...], GradientT] | None = None
        self._min_sides: dict[tuple[str, ...], int] = {}
        self.step_times = StepTimes()  # for the time-left estimates of later dreams (see ``eta``)

    @property
    def compiled_kept(self) -> int:
        """How many compiled objectives (and as many extractors) are kept."""
        return self._gradients.kept

    @compiled_kept.setter
    def compiled_kept(self, kept: int) -> None:
        self._extractors.kept = self._gradients.kept = kept

    def precision(self, requested: str) -> str:
        """The precision a dream asking for ``requested`` computes in here."""
        return resolve_precision(requested, self.backend.name, self._device)

    def _graph(self, precision: str) -> Any:
        if precision not in self._graphs:
            from reverie.engine.folding import dream_graph

            self._graphs[precision] = dream_graph(
                self.base, _POLICIES[precision], scatter_free_pooling=self.backend.scatter_free_pooling
            )
        return self._graphs[precision]

    def extractor(self, layers: tuple[str, ...], precision: str | None = None) -> Any:
        """A model from the input to ``layers`` only: nothing deeper than the deepest layer is computed.

        Without a precision it reads the loaded model itself; with one, its folded dream graph."""

        def build() -> Any:
            import keras

            source = self.base if precision is None else self._graph(precision)
            outputs = [source.get_layer(name).output for name in layers]
            return keras.Model(source.inputs, outputs, name=f"{self.spec.name}_dream")

        return self._extractors.get((layers, precision or ""), build)

    def gradient_fn(
        self,
        layers: Mapping[str, float],
        channels: Mapping[str, Sequence[int]],
        precision: str = "auto",
        guide: np.ndarray | None = None,
    ) -> GradientT:
        """The compiled gradient for one objective, built once: retracing per job would cost seconds.

        With a ``guide`` image the objective is the guided one; the last guided gradient is kept, so the
        frames of one zoom, or dreams repeated with one guide, trace it once."""
        precision = self.precision(precision)
        key = (tuple(layers.items()), tuple((name, tuple(c)) for name, c in channels.items()), precision)
        if guide is not None:
            return self._guided_gradient_fn(key, layers, channels, precision, guide)

        def build() -> GradientT:
            from reverie.engine.objective import check_channels, make_objective

            names = tuple(layers)
            extractor = self.extractor(names, precision)
            check_channels(extractor, names, channels)
            return self.backend.make_gradient_fn(extractor, make_objective(names, layers, channels))

        return self._gradients.get(key, build)

    def _guided_gradient_fn(
        self,
        key: tuple[Any, ...],
        layers: Mapping[str, float],
        channels: Mapping[str, Sequence[int]],
        precision: str,
        guide: np.ndarray,
    ) -> GradientT:
        from reverie.engine.guide import guide_features
        from reverie.engine.objective import check_channels, make_guided_objective

        guided_key = (*key, guide.shape, hashlib.sha256(np.ascontiguousarray(guide).data).hexdigest())
        if self._guided is None or self._guided[0] != guided_key:
            names = tuple(layers)
            extractor = self.extractor(names, precision)
            check_channels(extractor, names, channels)
            features = guide_features(extractor, names, guide, self.min_side(names))
            objective = make_guided_objective(names, layers, channels, features)
            self._guided = (guided_key, self.backend.make_gradient_fn(extractor, objective))
        return self._guided[1]

    def min_side(self, layers: tuple[str, ...]) -> int:
        """The smallest square input whose deepest activation keeps an interior after the 2-pixel border crop."""
        if layers not in self._min_sides:
            extractor = self.extractor(layers)
            self._min_sides[layers] = bisect_left(range(_MAX_SIDE), True, key=lambda side: _fits(extractor, side))
        return self._min_sides[layers]


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
def load_model(name: str = "inception_v3", weights: str = IMAGENET, seed: int = 0) -> DreamModel[Any]:
    """Build a model once per process; ``weights`` is "imagenet", "random" (seeded by ``seed``) or a file."""
    if not isinstance(weights, str) or not weights:
        raise BadRequest("weights must be 'imagenet', 'random' or the path of a weights file")
    spec = get_spec(name)
    backend = backends.backend()  # its settings (JAX: determinism, compile cache) must precede the first model
    return DreamModel(spec, build_base(spec, weights, seed), weights, backend)
