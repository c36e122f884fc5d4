"""A contact sheet: tiles on a grid, each with its channel number under it, and a title line on top."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFont

GAP = 4  # pixels between tiles and around the sheet
LABEL = 14  # the height of the band under a tile that holds its channel number
TITLE = 18  # the height of the title line
BACKGROUND = (255, 255, 255)
INK = (0, 0, 0)


@dataclass(frozen=True)
class Layout:
    """Where each tile of a sheet goes."""

    count: int
    columns: int
    tile: int

    @property
    def rows(self) -> int:
        return math.ceil(self.count / self.columns)

    @property
    def size(self) -> tuple[int, int]:
        """The sheet's (width, height)."""
        return (
            GAP + self.columns * (self.tile + GAP),
            TITLE + GAP + self.rows * (self.tile + LABEL + GAP),
        )

    def origin(self, index: int) -> tuple[int, int]:
        """The top-left corner of tile ``index`` (row by row)."""
        row, column = divmod(index, self.columns)
        return GAP + column * (self.tile + GAP), TITLE + GAP + row * (self.tile + LABEL + GAP)


def layout(count: int, tile: int, columns: int | None = None) -> Layout:
    """A grid for ``count`` tiles: ``columns`` wide, else as near square as it gets (16 × 16 for 256)."""
    if count < 1:
        raise ValueError("a sheet needs at least one tile")
    return Layout(count, min(count, columns or math.ceil(math.sqrt(count))), tile)


def contact_sheet(tiles: Sequence[tuple[int, np.ndarray]], title: str, columns: int | None = None) -> np.ndarray:
    """The sheet (H×W×3 uint8) of ``(channel, tile)`` pairs, all tiles of one square size, in the given order."""
    grid = layout(len(tiles), tiles[0][1].shape[0], columns)
    sheet = Image.new("RGB", grid.size, BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    _write(draw, title, (GAP, GAP), (grid.size[0] - 2 * GAP, TITLE), centred=False)
    for index, (channel, tile) in enumerate(tiles):
        left, top = grid.origin(index)
        sheet.paste(Image.fromarray(tile), (left, top))
        _write(draw, str(channel), (left, top + grid.tile), (grid.tile, LABEL), centred=True)
    return np.asarray(sheet)


def _write(draw: ImageDraw.ImageDraw, text: str, corner: tuple[int, int], box: tuple[int, int], centred: bool) -> None:
    """``text`` in Pillow's default font, centred vertically in ``box`` (and across it when ``centred``).

    Placed by its measured box rather than by a text anchor, which Pillow's bitmap font (a Pillow built
    without FreeType) does not take."""
    font = ImageFont.load_default()
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    x = corner[0] + ((box[0] - (right - left)) // 2 if centred else 0) - left
    y = corner[1] + (box[1] - (bottom - top)) // 2 - top
    draw.text((x, y), text, fill=INK, font=font)
