"""The dream engine: float RGB arrays in, float RGB arrays out; no files, no sockets."""

from reverie.engine.dream import dream
from reverie.engine.loading import DreamModel, load_model
from reverie.engine.params import DreamParams
from reverie.engine.registry import MODELS, PRESETS, ModelSpec, get_spec
from reverie.engine.results import DreamResult, Progress

__all__ = [
    "MODELS",
    "PRESETS",
    "DreamModel",
    "DreamParams",
    "DreamResult",
    "ModelSpec",
    "Progress",
    "dream",
    "get_spec",
    "load_model",
]
