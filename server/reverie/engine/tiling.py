"""Where the tiles of an image lie, and how their gradients blend: overlapping tiles with feathered weights,
so memory stays bounded whatever the image size and no seam shows where tiles meet.

With ``fixed`` tiles (backends that compile per shape) every tile is tile×tile and tiles do not overlap:
they lie on a grid over the rolled image wrapped around (as many tiles as cover it once; a pixel the grid
reaches more than once gets the mean of its gradients). The dream rolls the image at least half a tile each
way before each step, so tile edges land somewhere else every step instead of being feathered: a 4096²
image is 64 tiles of 512², not the 121 that overlapping ones would take."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

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
