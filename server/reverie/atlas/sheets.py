"""A channel atlas: each chosen channel's tile, from the cache or dreamed (see ``atlas_render``), on one sheet."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from reverie.atlas.cache import TileCache
from reverie.atlas.layout import contact_sheet
from reverie.atlas.render import AtlasSettings, render_channels
from reverie.engine.registry import get_spec
from reverie.engine.weights import IMAGENET, RANDOM
from reverie_wire.errors import BadRequest


@dataclass(frozen=True)
class Atlas:
    sheet: np.ndarray  # H×W×3 uint8
    channels: tuple[int, ...]
    dreamed: int  # tiles dreamed now; the rest came from the cache
    seconds: float


def _width(model_name: str, weights: str, layer: str, cache: TileCache) -> int:
    """The layer's channel count: recorded in the cache, else read from the model (which then loads)."""
    width = cache.width()
    if width is None:
        from reverie.engine.loading import load_model

        width = int(load_model(model_name, weights).extractor((layer,)).outputs[0].shape[-1])
        cache.record_width(width)
    return width


def make_atlas(
    model_name: str,
    weights: str,
    layer: str,
    channels: Sequence[int] | None,
    settings: AtlasSettings,
    columns: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    on_step: Callable[[float], None] | None = None,
) -> Atlas:
    """The sheet of ``channels`` (None: all of the layer's) of ``layer``; ``progress`` hears (tiles dreamed, tiles
    to dream) after each tile dreamed, ``on_step`` the fraction of the rendering done after each gradient step
    (and may raise to stop it)."""
    started = time.perf_counter()
    spec = get_spec(model_name)
    spec.resolve_layers("keras", {layer: 1.0})  # an unknown layer is one clear error listing the valid ones
    cache = TileCache.of(spec.name, weights, layer, settings)
    width = _width(spec.name, weights, layer, cache)
    chosen = tuple(range(width)) if channels is None else tuple(channels)
    beyond = [channel for channel in chosen if channel >= width]
    if beyond:
        raise BadRequest(f"{layer} has channels 0 to {width - 1}; got {', '.join(map(str, beyond))}")
    tiles: dict[int, np.ndarray] = {}
    for channel in chosen:
        tile = cache.tile(channel)
        if tile is not None:
            tiles[channel] = tile
    missing = [channel for channel in dict.fromkeys(chosen) if channel not in tiles]
    if missing:
        from reverie.engine.loading import load_model

        for done, (channel, tile) in enumerate(
            render_channels(load_model(spec.name, weights), layer, missing, settings, on_step)
        ):
            cache.put(channel, tile)
            tiles[channel] = tile
            if progress is not None:
                progress(done + 1, len(missing))
    named = weights if weights in (IMAGENET, RANDOM) else Path(weights).name
    sheet = contact_sheet(
        [(channel, tiles[channel]) for channel in chosen], f"{spec.name}: {layer} ({named} weights)", columns
    )
    return Atlas(sheet, chosen, len(missing), time.perf_counter() - started)
