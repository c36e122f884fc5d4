"""The dream engine: float RGB arrays in, float RGB arrays out; no files, no sockets.

Names are imported on first use, so light parts (parameters, the model registry) load without Keras.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "dream": "reverie.engine.small_images",
    "DreamModel": "reverie.engine.loading",
    "load_model": "reverie.engine.loading",
    "DreamParams": "reverie.engine.params",
    "MODELS": "reverie.engine.registry",
    "PRESETS": "reverie.engine.registry",
    "ModelSpec": "reverie.engine.registry",
    "get_spec": "reverie.engine.registry",
    "DreamResult": "reverie.engine.results",
    "Progress": "reverie.engine.results",
    "warm_up": "reverie.engine.warming",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'reverie.engine' has no attribute {name!r}")
    return getattr(import_module(_EXPORTS[name]), name)
