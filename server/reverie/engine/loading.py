"""Loading a model's weights (ImageNet through Keras' cache, a local file, or seeded random) and
cutting it down to the layers a dream uses."""

from __future__ import annotations

import os
from bisect import bisect_left
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

from reverie.engine.backends import GradientFn, make_gradient_fn
from reverie.engine.registry import ModelSpec, get_spec
from reverie.errors import BadRequest, WeightsMissing

RANDOM = "random"
# No dream layer needs a larger input than this to have a usable activation.
_MAX_SIDE = 1024
IMAGENET = "imagenet"


def keras_cache_dir() -> Path:
    """Where ``keras.utils.get_file`` keeps downloaded weights (``$KERAS_HOME/models``, else ``~/.keras/models``)."""
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return Path(home) / "models"


def _offline_message(spec: ModelSpec, cause: BaseException) -> str:
    cached = keras_cache_dir() / spec.weights_file
    return (
        f"cannot load the ImageNet weights for {spec.name}: {spec.weights_file} is not in the Keras cache "
        f"({cached}) and downloading it failed ({type(cause).__name__}). Download {spec.weights_url} on a "
        f"machine with internet and copy it to {cached}, or pass --weights /path/to/{spec.weights_file}; "
        f"--weights random dreams without it"
    )


def _build_base(spec: ModelSpec, weights: str, seed: int) -> Any:
    import keras

    if weights == RANDOM:
        keras.utils.set_random_seed(seed)
        return spec.build(None)
    if weights == IMAGENET:
        try:
            return spec.build(IMAGENET)
        except Exception as error:  # Keras raises a bare Exception for a failed download
            if (keras_cache_dir() / spec.weights_file).is_file():
                raise
            raise WeightsMissing(_offline_message(spec, error)) from error
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


def _device_name() -> str:
    import keras

    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        device = jax.devices()[0]
        return "CPU" if device.platform == "cpu" else str(device.device_kind)
    if backend == "tensorflow":
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        if gpus:
            details = tf.config.experimental.get_device_details(gpus[0])
            return str(details.get("device_name", gpus[0].name))
    return "CPU"


class DreamModel:
    """A loaded model kept warm; feature extractors for each layer set are built once and cached."""

    def __init__(self, spec: ModelSpec, base: Any, weights: str) -> None:
        self.spec = spec
        self.base = base
        self.weights = weights
        self.device = _device_name()
        self._extractors: dict[tuple[str, ...], Any] = {}
        self._gradient_fns: dict[tuple[Any, ...], GradientFn] = {}
        self._min_sides: dict[tuple[str, ...], int] = {}

    def extractor(self, layers: tuple[str, ...]) -> Any:
        """A model from the input to ``layers`` only: nothing deeper than the deepest layer is computed."""
        if layers not in self._extractors:
            import keras

            outputs = [self.base.get_layer(name).output for name in layers]
            self._extractors[layers] = keras.Model(self.base.inputs, outputs, name=f"{self.spec.name}_dream")
        return self._extractors[layers]

    def gradient_fn(self, layers: Mapping[str, float], channels: Mapping[str, Sequence[int]]) -> GradientFn:
        """The compiled gradient for one objective, built once: retracing per job would cost seconds."""
        key = (tuple(layers.items()), tuple((name, tuple(c)) for name, c in channels.items()))
        if key not in self._gradient_fns:
            from reverie.engine.objective import check_channels, make_objective

            names = tuple(layers)
            extractor = self.extractor(names)
            check_channels(extractor, names, channels)
            self._gradient_fns[key] = make_gradient_fn(extractor, make_objective(names, layers, channels))
        return self._gradient_fns[key]

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
def load_model(name: str = "inception_v3", weights: str = IMAGENET, seed: int = 0) -> DreamModel:
    """Build a model once per process; ``weights`` is "imagenet", "random" (seeded by ``seed``) or a file."""
    if not isinstance(weights, str) or not weights:
        raise BadRequest("weights must be 'imagenet', 'random' or the path of a weights file")
    spec = get_spec(name)
    return DreamModel(spec, _build_base(spec, weights, seed), weights)
