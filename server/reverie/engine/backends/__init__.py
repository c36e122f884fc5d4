"""Per-backend gradient steps: the only backend-specific code in the engine."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

# (tiles N×h×w×3 float32) -> (losses N, gradients N×h×w×3)
GradientFn = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]


def make_gradient_fn(extractor: Any, objective: Callable[[Any], Any]) -> GradientFn:
    """The gradient of the objective with respect to the input tiles, for Keras' current backend."""
    import keras

    backend = keras.backend.backend()
    if backend == "tensorflow":
        from reverie.engine.backends.tensorflow import make_gradient_fn as make
    elif backend == "jax":
        from reverie.engine.backends.jax import make_gradient_fn as make
    else:
        raise RuntimeError(f"Keras backend {backend!r} is not supported; use tensorflow or jax")
    return make(extractor, objective)
