"""Gradients over overlapping tiles, blended with feathered weights, so memory stays bounded whatever
the image size and no seam shows where tiles meet.

The jitter shift is applied to the tiles' pixel indices, not to the image: a tile of the shifted image is
gathered straight from the unshifted one and its gradient added straight back, so no step makes an
image-sized shifted copy.

With ``fixed`` tiles (backends that compile per shape) every tile is tile×tile and tiles do not overlap:
they lie on a grid over the rolled image wrapped around (as many tiles as cover it once; a pixel the grid
reaches more than once gets the mean of its gradients). The dream rolls the image at least half a tile each
way before each step, so tile edges land somewhere else every step instead of being feathered: a 4096²
image is 64 tiles of 512², not the 121 that overlapping ones would take."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import ml_dtypes
import numpy as np

from reverie.engine.backends import GradientFn
from reverie_wire.errors import DreamCancelled

# Where tiles overlap, their blended gradient is summed in bfloat16: half the memory of float32 on large
# images, and its 8-bit mantissa moves a pixel by at most ~0.4 % of one step. One tile stays float32.
_BLEND_DTYPE = ml_dtypes.bfloat16

# Feather weights never reach zero, so every pixel keeps a defined blend even where one tile covers it.
_FLOOR = 1e-3


def tile_starts(length: int, tile: int, overlap: int) -> list[int]:
    """Start offsets covering ``length`` with tiles of ``tile`` that overlap by at least ``overlap``."""
    if length <= tile:
        return [0]
    stride = tile - overlap
    starts = list(range(0, length - tile, stride))
    starts.append(length - tile)
    return starts


def fitted_tile(length: int, tile: int, overlap: int) -> int:
    """The smallest tile that covers ``length`` with as many tiles as ``tile`` needs: 2048 pixels take three
    1024-pixel tiles overlapping by 128, and three of 768 do it too, with 1.27× the pixels instead of 2.25×."""
    if length <= tile:
        return length
    count = -(-(length - overlap) // (tile - overlap))
    return -(-(length + (count - 1) * overlap) // count)


def grid_span(shape: tuple[int, int], tile: int) -> tuple[int, int]:
    """The span of a grid of fixed tile×tile tiles covering ``shape`` once: each side rounded up to whole
    tiles. A device keeps its image padded to it, so the image and its tiles' grid agree."""
    return (-(-shape[0] // tile) * tile, -(-shape[1] // tile) * tile)


def _ramp(size: int, overlap: int, feather_start: bool, feather_end: bool) -> np.ndarray:
    """1-D weights rising over ``overlap`` pixels at the ends that meet another tile."""
    ramp = np.ones(size, dtype=np.float32)
    if overlap == 0:
        return ramp
    rise = np.clip((np.arange(size, dtype=np.float32) + 0.5) / overlap, _FLOOR, 1.0)
    if feather_start:
        ramp *= rise
    if feather_end:
        ramp *= rise[::-1]
    return ramp


def _blend_weights(length: int, starts: tuple[int, ...], tile: int, overlap: int) -> dict[int, np.ndarray]:
    """Each tile's 1-D feather ramp along one axis, divided by the ramps' sum there: they add up to one."""
    ramps = {start: _ramp(tile, overlap, start > 0, start + tile < length) for start in starts}
    coverage = np.zeros(length, np.float32)
    for start, ramp in ramps.items():
        coverage[start : start + tile] += ramp
    return {start: ramp / coverage[start : start + tile] for start, ramp in ramps.items()}


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


@dataclass(frozen=True)
class TileLayout:
    """Where the tiles of one image shape lie and how each is weighted."""

    height: int
    width: int
    tile_height: int
    tile_width: int
    rows: tuple[int, ...]
    cols: tuple[int, ...]
    overlap: int

    @classmethod
    def for_shape(
        cls, height: int, width: int, tile: int, overlap: int, fixed: bool = False, smallest: int = 0
    ) -> TileLayout:
        """The layout of an image. With ``fixed`` every tile is tile×tile, on a grid over the image wrapped
        around; otherwise tiles shrink to cover each side with as few tiles as ``tile`` would need,
        overlapping by ``overlap`` (not below ``smallest`` pixels)."""
        if fixed:
            span_height, span_width = grid_span((height, width), tile)
            return cls(
                span_height,
                span_width,
                tile,
                tile,
                tuple(range(0, span_height, tile)),
                tuple(range(0, span_width, tile)),
                0,
            )
        tile_height = max(fitted_tile(height, tile, overlap), min(smallest, tile, height))
        tile_width = max(fitted_tile(width, tile, overlap), min(smallest, tile, width))
        return cls(
            height,
            width,
            min(tile_height, height),
            min(tile_width, width),
            tuple(tile_starts(height, tile_height, overlap)),
            tuple(tile_starts(width, tile_width, overlap)),
            overlap,
        )

    @property
    def count(self) -> int:
        return len(self.rows) * len(self.cols)

    def origins(self) -> list[tuple[int, int]]:
        return [(y, x) for y in self.rows for x in self.cols]

    @cached_property
    def _row_weights(self) -> dict[int, np.ndarray]:
        return _blend_weights(self.height, self.rows, self.tile_height, self.overlap)

    @cached_property
    def _col_weights(self) -> dict[int, np.ndarray]:
        return _blend_weights(self.width, self.cols, self.tile_width, self.overlap)

    def weight(self, y: int, x: int) -> np.ndarray:
        """The tile's blend window (tile_height×tile_width×1): full weight inside, ramps where a neighbour
        overlaps it; the windows of all tiles add up to one at every pixel, so blending needs no division."""
        window: np.ndarray = (self._row_weights[y][:, None] * self._col_weights[x][None, :])[:, :, None]
        return window


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
