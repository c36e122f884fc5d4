"""The dream engine: float RGB arrays in, float RGB arrays out; no files, no sockets.

Importing it loads NumPy and Pillow only: Keras and its backend's framework load with the first model
(``load_model``), so the light parts (parameters, the model registry) serve the command line and the server.
"""

from reverie.engine.loading import DreamModel, load_model
from reverie.engine.octave_ascent import dream
from reverie.engine.params import DreamParams
from reverie.engine.registry import MODELS, PRESETS, ModelSpec, get_spec
from reverie.engine.results import DreamResult, Progress
from reverie.engine.warming import warm_up

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
    "warm_up",
]
