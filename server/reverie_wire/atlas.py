"""The ``atlas`` request: a sheet of what channels of the served model's layer dream of, for the dialog's channel
browser, and the sheet's layout in the ``result`` that answers it.

Standard library only (GIMP's Python imports it): the server renders the sheet, the plug-in shows it and maps a
click to a channel through the cells the reply lists. See server/reverie/PROTOCOL.md, "atlas".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from reverie_wire.errors import BadRequest

ATLAS = "atlas"
# The most channels one request renders (a sheet of 16 × 16), and the tile sides it may ask for: a browser's page,
# not a whole 1024-channel layer at once.
MAX_SHEET_CHANNELS = 256
TILE_SIDES = (32, 256)
DEFAULT_TILE = 64
MAX_LAYER_NAME = 128


@dataclass(frozen=True)
class AtlasOrder:
    """Channels ``first`` to ``last`` (both included) of ``layer``, each a ``tile`` × ``tile`` picture."""

    layer: str
    first: int
    last: int
    tile: int = DEFAULT_TILE

    @property
    def channels(self) -> tuple[int, ...]:
        return tuple(range(self.first, self.last + 1))

    def to_dict(self) -> dict[str, Any]:
        return {"layer": self.layer, "channels": [self.first, self.last], "tile": self.tile}


def _whole(name: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise BadRequest(f"atlas {name} must be a whole number from {low} to {high}, got {value!r}")
    return value


def atlas_order(data: Any) -> AtlasOrder:
    """The header's ``atlas`` object, checked: a layer name, ``channels: [first, last]`` of at most
    MAX_SHEET_CHANNELS, a tile side within TILE_SIDES; whether the layer has those channels is the server's
    to say."""
    if not isinstance(data, Mapping):
        raise BadRequest('an atlas request needs "atlas": {"layer": ..., "channels": [first, last], "tile": ...}')
    unknown = sorted(set(data) - {"layer", "channels", "tile"})
    if unknown:
        raise BadRequest(f"atlas has no field {', '.join(map(repr, unknown))}; it takes layer, channels and tile")
    layer = data.get("layer")
    if not isinstance(layer, str) or not 0 < len(layer) <= MAX_LAYER_NAME:
        raise BadRequest(f"atlas layer must be a layer's name (1 to {MAX_LAYER_NAME} characters), got {layer!r}")
    channels = data.get("channels")
    if not isinstance(channels, Sequence) or isinstance(channels, str) or len(channels) != 2:
        raise BadRequest(f"atlas channels must be [first, last], got {channels!r}")
    first = _whole("channels' first", channels[0], 0, 2**31)
    last = _whole("channels' last", channels[1], first, first + MAX_SHEET_CHANNELS - 1)
    tile = _whole("tile", data.get("tile", DEFAULT_TILE), *TILE_SIDES)
    return AtlasOrder(layer, first, last, tile)


@dataclass(frozen=True)
class Sheet:
    """Where each channel's tile lies on a sheet: ``cells[i]`` is ``(x, y, width, height)`` of ``channels[i]``;
    ``dreamed``: tiles rendered for this request, the rest came from the server's cache."""

    layer: str
    channels: tuple[int, ...]
    cells: tuple[tuple[int, int, int, int], ...]
    dreamed: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "layer": self.layer,
            "channels": list(self.channels),
            "cells": [list(cell) for cell in self.cells],
            "dreamed": self.dreamed,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Sheet:
        """A result's ``atlas`` field (KeyError, TypeError or ValueError when it is malformed)."""
        channels = tuple(int(channel) for channel in data["channels"])
        cells = tuple((int(x), int(y), int(w), int(h)) for x, y, w, h in data["cells"])
        if len(cells) != len(channels):
            raise ValueError(f"{len(channels)} channels but {len(cells)} cells")
        return cls(str(data["layer"]), channels, cells, int(data["dreamed"]))

    def channel_at(self, x: float, y: float) -> int | None:
        """The channel whose tile holds the sheet's point (x, y), or None between tiles."""
        for index, (left, top, width, height) in enumerate(self.cells):
            if left <= x < left + width and top <= y < top + height:
                return self.channels[index]
        return None
