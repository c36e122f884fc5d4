"""A gradient over tiles on the host (see ``tiling`` for where they lie): each tile gathered from the image,
its gradient weighted and added back.

The jitter shift is applied to the tiles' pixel indices, not to the image: a tile of the shifted image is
gathered straight from the unshifted one and its gradient added straight back, so no step makes an
image-sized shifted copy."""

from __future__ import annotations

from collections.abc import Callable

import ml_dtypes
import numpy as np

from reverie.engine.backends.base import GradientFn
from reverie.engine.tiling import TileLayout
from reverie_wire.errors import DreamCancelled

# Where tiles overlap, their blended gradient is summed in bfloat16: half the memory of float32 on large
# images, and its 8-bit mantissa moves a pixel by at most ~0.4 % of one step. One tile stays float32.
_BLEND_DTYPE = ml_dtypes.bfloat16


def _runs(indices: np.ndarray) -> list[tuple[slice, slice]]:
    """(positions in ``indices``, source slice) for each run of consecutive indices: a rolled range is at
    most two runs, so gathering and scattering a tile are a few slice copies, not per-pixel indexing."""
    breaks = (np.flatnonzero(np.diff(indices) != 1) + 1).tolist()
    bounds = zip([0, *breaks], [*breaks, len(indices)], strict=True)
    return [(slice(a, b), slice(int(indices[a]), int(indices[a]) + b - a)) for a, b in bounds]


def _gather(image: np.ndarray, rows: np.ndarray, cols: np.ndarray, out: np.ndarray) -> None:
    """``out[i, j] = image[rows[i], cols[j]]``."""
    for at_y, from_y in _runs(rows):
        for at_x, from_x in _runs(cols):
            out[at_y, at_x] = image[from_y, from_x]


def _scatter_add(target: np.ndarray, rows: np.ndarray, cols: np.ndarray, values: np.ndarray) -> None:
    """``target[rows[i], cols[j]] += values[i, j]``; an index that repeats (a wrapped tile larger than the
    image) adds each of its values, one run of indices at a time."""
    for at_y, to_y in _runs(rows):
        for at_x, to_x in _runs(cols):
            target[to_y, to_x] += values[at_y, at_x]


def tiled_gradient(
    image: np.ndarray,
    layout: TileLayout,
    gradient_fn: GradientFn,
    batch: int,
    shift: tuple[int, int] = (0, 0),
    should_cancel: Callable[[], bool] | None = None,
) -> tuple[float, np.ndarray]:
    """The objective (mean over tiles) and blended gradient of the H×W×3 image rolled by ``shift``, the
    gradient rolled back into the image's own frame (float32 for one tile, else bfloat16).

    ``should_cancel`` is asked before each batch of tiles: on a large image one step is many batches,
    and a cancelled job should not wait for all of them."""
    height, width = image.shape[:2]
    # Pixel (i, j) of the rolled image, wrapped around out to the layout, is image[rows[i], cols[j]].
    rows = (np.arange(layout.height) - shift[0]) % height
    cols = (np.arange(layout.width) - shift[1]) % width
    th, tw = layout.tile_height, layout.tile_width
    total = np.zeros(image.shape, np.float32 if layout.count == 1 else _BLEND_DTYPE)
    loss_sum = 0.0
    origins = layout.origins()
    for first in range(0, len(origins), batch):
        if first and should_cancel is not None and should_cancel():
            raise DreamCancelled("the dream was cancelled")
        group = origins[first : first + batch]
        tiles = np.empty((len(group), th, tw, image.shape[2]), np.float32)
        for tile, (y, x) in zip(tiles, group, strict=True):
            _gather(image, rows[y : y + th], cols[x : x + tw], tile)
        losses, gradients = gradient_fn(tiles)
        loss_sum += float(np.sum(losses))
        for (y, x), gradient in zip(group, gradients, strict=True):
            if layout.count > 1 and layout.overlap:  # one tile's window, or any without overlap, is all ones
                gradient = gradient * layout.weight(y, x)
            _scatter_add(total, rows[y : y + th], cols[x : x + tw], gradient)
    for indices, length, shape in ((rows, height, (-1, 1, 1)), (cols, width, (-1, 1))):
        copies = np.bincount(indices, minlength=length)
        if copies.max() > 1:  # a wrapped grid reached these pixels more than once: take the mean
            np.divide(total, copies.reshape(shape).astype(np.float32), out=total, casting="unsafe")
    return loss_sum / layout.count, total
