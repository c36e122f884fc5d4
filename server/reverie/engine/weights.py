"""A model's weights: ImageNet's (from Keras' cache, the file shipped with Reverie, or Keras' download), a
local file's, or seeded random ones; every failure one message that says where the file should be."""

from __future__ import annotations

import logging
from importlib import resources
from pathlib import Path
from typing import Any

from reverie.engine.registry import ModelSpec
from reverie.engine.weight_files import bundled_models, bundled_weights, cached_weights, keras_cache_dir
from reverie_wire.errors import WeightsMissing

log = logging.getLogger(__name__)

RANDOM = "random"
IMAGENET = "imagenet"


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


def build_base(spec: ModelSpec, weights: str, seed: int) -> Any:
    """The model without its top, with ``weights``: "imagenet", "random" (seeded by ``seed``) or a file."""
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
