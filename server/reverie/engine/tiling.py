"""Gradients over overlapping fixed-size tiles, blended with feathered weights, so memory stays
bounded whatever the image size and no seam shows where tiles meet.

With ``fixed`` tiles (backends that compile per shape) every tile is tile×tile: an image side shorter
than a tile is mirrored out to it, and the mirrored part's gradient is dropped."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from reverie.engine.backends import GradientFn
from reverie.errors import DreamCancelled

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
    def for_shape(cls, height: int, width: int, tile: int, overlap: int, fixed: bool = False) -> TileLayout:
        """The layout of an image; with ``fixed`` the layout covers the image mirrored out to a whole tile."""
        if fixed:
            height, width = max(height, tile), max(width, tile)
        return cls(
            height,
            width,
            min(tile, height),
            min(tile, width),
            tuple(tile_starts(height, tile, overlap)),
            tuple(tile_starts(width, tile, overlap)),
            overlap,
        )

    @property
    def count(self) -> int:
        return len(self.rows) * len(self.cols)

    def origins(self) -> list[tuple[int, int]]:
        return [(y, x) for y in self.rows for x in self.cols]

    def weight(self, y: int, x: int) -> np.ndarray:
        """The tile's feather window: full weight inside, ramps where a neighbour overlaps it."""
        wy = _ramp(self.tile_height, self.overlap, y > 0, y + self.tile_height < self.height)
        wx = _ramp(self.tile_width, self.overlap, x > 0, x + self.tile_width < self.width)
        return (wy[:, None] * wx[None, :])[:, :, None]


def tiled_gradient(
    image: np.ndarray,
    layout: TileLayout,
    gradient_fn: GradientFn,
    batch: int,
    should_cancel: Callable[[], bool] | None = None,
) -> tuple[float, np.ndarray]:
    """The objective (mean over tiles) and the blended gradient of an H×W×3 image.

    ``should_cancel`` is asked before each batch of tiles: on a large image one step is many batches,
    and a cancelled job should not wait for all of them."""
    height, width = image.shape[:2]
    if (height, width) != (layout.height, layout.width):
        image = np.pad(image, ((0, layout.height - height), (0, layout.width - width), (0, 0)), mode="symmetric")
    if layout.count == 1:  # one tile's window is all ones: nothing to blend
        losses, gradients = gradient_fn(image[None])
        return float(losses[0]), gradients[0, :height, :width]
    total = np.zeros_like(image)
    weights = np.zeros((*image.shape[:2], 1), dtype=np.float32)
    loss_sum = 0.0
    origins = layout.origins()
    th, tw = layout.tile_height, layout.tile_width
    for first in range(0, len(origins), batch):
        if first and should_cancel is not None and should_cancel():
            raise DreamCancelled("the dream was cancelled")
        group = origins[first : first + batch]
        tiles = np.stack([image[y : y + th, x : x + tw] for y, x in group])
        losses, gradients = gradient_fn(tiles)
        loss_sum += float(np.sum(losses))
        for (y, x), gradient in zip(group, gradients, strict=True):
            window = layout.weight(y, x)
            total[y : y + th, x : x + tw] += gradient * window
            weights[y : y + th, x : x + tw] += window
    total /= weights
    return loss_sum / layout.count, total[:height, :width]
