"""Gradients over overlapping tiles, blended with feathered weights, so memory stays bounded whatever
the image size and no seam shows where tiles meet.

The jitter shift is applied to the tiles' pixel indices, not to the image: a tile of the shifted image is
gathered straight from the unshifted one and its gradient added straight back, so no step makes an
image-sized shifted copy. With ``fixed`` tiles (backends that compile per shape) every tile is tile×tile:
an image side shorter than a tile is mirrored out to it, and the mirrored part's gradient is dropped."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import ml_dtypes
import numpy as np

from reverie.engine.backends import GradientFn
from reverie.errors import DreamCancelled

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
    """``target[rows[i], cols[j]] += values[i, j]`` (the indices of one tile never repeat)."""
    for at_y, to_y in _runs(rows):
        for at_x, to_x in _runs(cols):
            target[to_y, to_x] += values[at_y, at_x]


def mirrored_indices(length: int, size: int) -> np.ndarray:
    """Indices along an axis of ``length`` pixels mirrored out to ``size`` (NumPy's "symmetric" padding)."""
    return np.pad(np.arange(length), (0, size - length), mode="symmetric")


@dataclass(frozen=True)
class AxisCoverage:
    """Along one axis of a layout, for each pixel: the tiles over it, the pixel's offset in each and each
    one's blend weight (K×length, K the most tiles over any pixel; missing ones weigh zero). Blending the
    tiles' gradients is then a weighted sum of K gathers per axis: no scatter, no per-tile operation."""

    tile: np.ndarray
    offset: np.ndarray
    weight: np.ndarray


def _axis_coverage(length: int, starts: tuple[int, ...], weights: dict[int, np.ndarray]) -> AxisCoverage:
    over: list[list[tuple[int, int, float]]] = [[] for _ in range(length)]
    for index, start in enumerate(starts):
        for offset, weight in enumerate(weights[start]):
            over[start + offset].append((index, offset, float(weight)))
    depth = max(len(entries) for entries in over)
    table = np.zeros((3, depth, length), np.float64)
    for pixel, entries in enumerate(over):
        for k, entry in enumerate(entries):
            table[:, k, pixel] = entry
    return AxisCoverage(table[0].astype(np.int32), table[1].astype(np.int32), table[2].astype(np.float32))


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
        """The layout of an image. With ``fixed`` every tile is tile×tile and the layout covers the image
        mirrored out to a whole tile; otherwise tiles shrink to cover each side with as few tiles as
        ``tile`` would need, overlapping by ``overlap`` (not below ``smallest`` pixels)."""
        if fixed:
            height, width = max(height, tile), max(width, tile)
            tile_height = tile_width = tile
        else:
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

    def coverage(self, axis: int) -> AxisCoverage:
        """Which tiles cover each row (axis 0) or column (axis 1), and with what weight."""
        if axis == 0:
            return _axis_coverage(self.height, self.rows, self._row_weights)
        return _axis_coverage(self.width, self.cols, self._col_weights)

    def weight(self, y: int, x: int) -> np.ndarray:
        """The tile's blend window (tile_height×tile_width×1): full weight inside, ramps where a neighbour
        overlaps it; the windows of all tiles add up to one at every pixel, so blending needs no division."""
        return (self._row_weights[y][:, None] * self._col_weights[x][None, :])[:, :, None]


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
    # Pixel (i, j) of the rolled image, mirrored out to the layout, is image[rows[i], cols[j]].
    rows = (mirrored_indices(height, layout.height) - shift[0]) % height
    cols = (mirrored_indices(width, layout.width) - shift[1]) % width
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
            inside_y, inside_x = min(th, height - y), min(tw, width - x)  # the mirrored part is dropped
            if layout.count > 1:  # one tile's window is all ones: nothing to blend
                gradient = gradient * layout.weight(y, x)
            _scatter_add(total, rows[y : y + inside_y], cols[x : x + inside_x], gradient[:inside_y, :inside_x])
    return loss_sum / layout.count, total
