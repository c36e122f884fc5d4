"""Where a model's ImageNet weights are found: Keras' download cache, or the file shipped inside Reverie.

Standard library only, so ``reverie doctor`` can say where the weights are without importing Keras.
"""

from __future__ import annotations

import os
import sys
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from reverie.engine.registry import MODELS, ModelSpec

if TYPE_CHECKING:
    if sys.version_info >= (3, 11):
        from importlib.resources.abc import Traversable
    else:
        from importlib.abc import Traversable


def keras_cache_dir() -> Path:
    """Where ``keras.utils.get_file`` keeps downloaded weights (``$KERAS_HOME/models``, else ``~/.keras/models``)."""
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return Path(home) / "models"


def cached_weights(spec: ModelSpec) -> Path | None:
    """``spec``'s ImageNet weights in Keras' cache, if they are there."""
    path = keras_cache_dir() / spec.weights_file
    return path if path.is_file() else None


def bundled_weights(spec: ModelSpec) -> Traversable | None:
    """``spec``'s ImageNet weights as shipped in the package (``reverie/weights/``), if it ships them."""
    source = resources.files("reverie").joinpath("weights").joinpath(spec.weights_file)  # one part a call before 3.11
    return source if source.is_file() else None


def bundled_models() -> list[str]:
    """The models that dream on ImageNet weights with no download."""
    return [name for name, spec in MODELS.items() if bundled_weights(spec) is not None]


def needs_download(spec: ModelSpec, weights: str) -> bool:
    """Whether loading ``weights`` ("imagenet", "random" or a file) downloads ``spec``'s ImageNet file first."""
    return weights == "imagenet" and cached_weights(spec) is None and bundled_weights(spec) is None
