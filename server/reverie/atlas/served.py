"""An atlas asked of a dream server (the dialog's channel browser): the sheet's size before it is rendered, for
the server's limits, and the sheet with its cells, rendered by the worker through the same tile cache as
``reverie atlas --size N``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from reverie.atlas.layout import layout
from reverie.atlas.render import AtlasSettings
from reverie.atlas.sheets import make_atlas
from reverie_wire.atlas import AtlasOrder, Sheet
from reverie_wire.errors import TooLarge
from reverie_wire.images import ImageSpec
from reverie_wire.protocol import Limits


def sheet_spec(order: AtlasOrder) -> ImageSpec:
    """The sheet's layout as the result will carry it: u8 RGB, its size fixed by the tile count and side."""
    width, height = layout(len(order.channels), order.tile).size
    return ImageSpec(width, height, 3, "u8")


def check_atlas_work(order: AtlasOrder, limits: Limits) -> None:
    """Refuse a sheet larger than the server's pixel-step budget: each tile's pixels times every step of its
    octaves (at least; a deep layer dreams larger and shrinks the tile), as a dream's work is counted."""
    settings = AtlasSettings(size=order.tile)
    work = len(order.channels) * order.tile**2 * settings.octaves * settings.steps
    if work > limits.max_pixel_steps:
        raise TooLarge(
            f"this atlas is {work / 1e9:.3g} billion pixel-steps ({len(order.channels)} tiles of {order.tile} "
            f"pixels); this server takes at most {limits.max_pixel_steps / 1e9:.3g} billion. Ask for fewer "
            "channels or smaller tiles, or raise [limits] max_pixel_steps"
        )


@dataclass(frozen=True)
class ServedSheet:
    pixels: np.ndarray  # H×W×3 uint8, as ``sheet_spec`` says
    sheet: Sheet
    seed: int
    seconds: float


def render_order(model: str, weights: str, order: AtlasOrder, on_step: Callable[[float], None]) -> ServedSheet:
    """The sheet of ``order`` on ``model`` (loaded once per process, so the worker's own), tiles from the cache
    where they are; ``on_step`` as ``make_atlas`` takes it."""
    settings = AtlasSettings(size=order.tile)
    atlas = make_atlas(model, weights, order.layer, order.channels, settings, on_step=on_step)
    grid = layout(len(atlas.channels), order.tile)
    cells = tuple((*grid.origin(index), order.tile, order.tile) for index in range(len(atlas.channels)))
    sheet = Sheet(order.layer, atlas.channels, cells, atlas.dreamed)
    return ServedSheet(np.ascontiguousarray(atlas.sheet), sheet, settings.seed, atlas.seconds)
