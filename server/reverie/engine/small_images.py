"""Dreaming images smaller than the layers' smallest input: enlarged for the dream, brought back to their size.

A 64×64 icon or a thin selection is too small for InceptionV3's deep layers. Rather than refuse it, the
engine dreams an enlarged copy and adds the dream's change, shrunk back, to the original pixels, so the
original's own detail is kept and only what the dream added is resampled.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from reverie.engine import octave_ascent
from reverie.engine.loading import DreamModel
from reverie.engine.octaves import resize
from reverie.engine.params import DreamParams
from reverie.engine.results import DreamResult, Progress
from reverie_wire.errors import ImageTooSmall

# Beyond this enlargement a dream would be mostly resampling, and a thin strip's long side would explode.
MAX_ENLARGEMENT = 8.0


def enlarged_shape(height: int, width: int, min_side: int) -> tuple[int, int] | None:
    """The shape an image is dreamed at so its short side reaches ``min_side``; None when it already does."""
    short = min(height, width)
    if short >= min_side:
        return None
    factor = min_side / short
    if factor > MAX_ENLARGEMENT:
        raise ImageTooSmall(
            f"the image is {width}×{height} pixels; these layers need at least {min_side}×{min_side}, and "
            f"Reverie enlarges at most {MAX_ENLARGEMENT:g}× (a short side of {math.ceil(min_side / MAX_ENLARGEMENT)} "
            "pixels): use a larger image or shallower layers"
        )
    return max(min_side, math.ceil(height * factor)), max(min_side, math.ceil(width * factor))


def _dreamable(image: np.ndarray) -> bool:
    """Whether ``image`` is what the engine takes; anything else goes on to the engine's own clear error."""
    return (
        isinstance(image, np.ndarray)
        and image.ndim == 3
        and image.shape[2] == 3
        and image.dtype == np.float32
        and image.size > 0
    )


def dream(
    image: np.ndarray,
    params: DreamParams,
    model: DreamModel,
    progress: Callable[[Progress], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
    guide: np.ndarray | None = None,
) -> DreamResult:
    """``octave_ascent.dream``, also for images under the layers' smallest input (see the module's note)."""
    shape = None
    if _dreamable(image) and params.model in (model.spec.name, *model.spec.aliases):
        height, width = image.shape[:2]
        shape = enlarged_shape(height, width, model.min_side(tuple(params.layer_weights())))
    if shape is None:
        return octave_ascent.dream(image, params, model, progress, should_cancel, guide)
    enlarged = resize(image, shape)
    result = octave_ascent.dream(enlarged, params, model, progress, should_cancel, guide)
    change = resize(result.image - enlarged, image.shape[:2])
    restored = np.clip(image + change, 0.0, 1.0)
    height, width = image.shape[:2]
    note = (
        f"the image is {width}×{height} pixels, under these layers' smallest input: it was dreamed enlarged to "
        f"{shape[1]}×{shape[0]} and brought back to its size"
    )
    return DreamResult(restored, result.seed, result.octaves_used, result.losses, (note, *result.notes), result.seconds)
