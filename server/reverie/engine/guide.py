"""The guide image's features, which the guided objective matches the dream's against.

The guide is seen once, at its own size (shrunk to at most ``GUIDE_SIDE`` on its long side, enlarged to
the layers' smallest input if it is under it), not resized to each octave: its motifs then come out at the
scale they have in the guide, whatever the size of the picture they are dreamed into, and one set of
features (one compiled gradient) serves every octave and tile.

It is enlarged at most as much as an image is (``MAX_ENLARGEMENT``) and seen at most ``GUIDE_MAX_SIDE`` long:
a 1×2048 guide enlarged to a 75-pixel short side made the server hold gigabytes for one look at it.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from reverie.engine.octaves import resize
from reverie.engine.small_images import MAX_ENLARGEMENT
from reverie_wire.errors import ImageTooSmall

# Long side the guide is seen at: enough for its motifs to be recognisable, few enough feature vectors
# (a few thousand at most per layer) that matching every dream position against them stays cheap.
GUIDE_SIDE = 512
# Feature vectors kept per layer: a shallow layer of a 512² guide has 65 536, and matching every dream
# position against all of them would take gigabytes; an even grid of at most this many keeps its motifs.
MAX_GUIDE_VECTORS = 1024
# The longest side a guide is seen at, enlarged or not: a seen guide is then at most this × the layers' input.
GUIDE_MAX_SIDE = int(GUIDE_SIDE * MAX_ENLARGEMENT)


def guide_shape(height: int, width: int, min_side: int) -> tuple[int, int]:
    """The size the guide is seen at: its own, shrunk to ``GUIDE_SIDE`` or enlarged to ``min_side``; a guide
    that needs more than ``MAX_ENLARGEMENT`` or would be seen longer than ``GUIDE_MAX_SIDE`` is refused."""
    enlargement = min_side / min(height, width)
    if enlargement > MAX_ENLARGEMENT:
        raise ImageTooSmall(
            f"guide: the guide is {width}×{height} pixels; these layers need at least {min_side}×{min_side}, and "
            f"Reverie enlarges at most {MAX_ENLARGEMENT:g}× (a short side of {math.ceil(min_side / MAX_ENLARGEMENT)} "
            "pixels): use a larger guide or shallower layers"
        )
    scale = max(min(1.0, GUIDE_SIDE / max(height, width)), enlargement)
    shape = max(1, math.ceil(height * scale)), max(1, math.ceil(width * scale))
    if max(shape) > GUIDE_MAX_SIDE:
        raise ImageTooSmall(
            f"guide: the guide is {width}×{height} pixels, too thin: enlarged to these layers' smallest input "
            f"({min_side} pixels) it would be {shape[1]}×{shape[0]}, and a guide is seen at most {GUIDE_MAX_SIDE} "
            "pixels long: crop it closer to a square"
        )
    return shape


def guide_features(extractor: Any, layers: tuple[str, ...], guide: np.ndarray, min_side: int) -> dict[str, np.ndarray]:
    """Each layer's feature vectors of ``guide`` (H×W×3 float32 in [0, 1]) as a positions × channels
    float32 array, the border the objective leaves out left out here too."""
    height, width = guide.shape[:2]
    seen = resize(guide, guide_shape(height, width, min_side)) * 2.0 - 1.0
    from keras import ops  # Keras here, not at import: the server checks a guide's size before it loads Keras

    from reverie.engine.objective import BORDER

    outputs = extractor([seen[None]], training=False)  # the model takes a list of one input
    outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    features = {}
    for name, output in zip(layers, outputs, strict=True):
        activation = ops.convert_to_numpy(ops.cast(output, "float32"))[0]
        if min(activation.shape[:2]) > 2 * BORDER:
            activation = activation[BORDER:-BORDER, BORDER:-BORDER]
        stride = math.ceil(math.sqrt(activation.shape[0] * activation.shape[1] / MAX_GUIDE_VECTORS))
        activation = activation[::stride, ::stride]
        features[name] = np.ascontiguousarray(activation.reshape(-1, activation.shape[-1]))
    return features
