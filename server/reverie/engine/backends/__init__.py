"""Per-backend gradient steps: the only backend-specific code in the engine.

Each backend module (``tensorflow``, ``jax``) holds a ``BACKEND`` that implements ``base.Backend``: the
gradient, the device, its tile policy, and where the dream's image lives between steps and octaves (the host's
NumPy arrays for TensorFlow, see ``host``; the device's for JAX, with whole octaves in one compiled loop). Nothing
here imports a framework until Keras' backend is known.
"""

from __future__ import annotations

import os
from importlib import import_module
from typing import Any

from reverie.engine.backends.base import Backend
from reverie_wire.errors import ReverieError

SUPPORTED = ("tensorflow", "jax")


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
    return str(keras.backend.backend())


def backend() -> Backend[Any]:
    """The backend Keras runs on."""
    name = backend_name()
    if name not in SUPPORTED:
        raise _unsupported(name)
    found: Backend[Any] = import_module(f"reverie.engine.backends.{name}").BACKEND
    return found
