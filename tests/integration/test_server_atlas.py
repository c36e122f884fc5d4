"""The ``atlas`` request through a real server with MobileNet's real weights: a sheet rendered by the worker as a
cancellable job, its cells where the tiles are, the second time from the server's tile cache."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from server_harness import Server, start_server, user_env

from reverie.atlas.cache import TileCache
from reverie.atlas.render import AtlasSettings
from reverie_wire.atlas import AtlasOrder
from reverie_wire.client import Cancelled, Progress, Result
from reverie_wire.errors import BadRequest, UnknownLayer

pytestmark = pytest.mark.slow

LAYER = "conv_pw_3_relu"
ORDER = AtlasOrder(LAYER, 4, 7, 32)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path]]:
    """A server with ImageNet weights and a user cache of its own."""
    home = tmp_path_factory.mktemp("atlas")
    env = dict(user_env(home), XDG_CACHE_HOME=str(home / "cache"))
    server = start_server(home, "--weights", "imagenet", env=env)
    try:
        yield server, home / "cache"
    finally:
        assert server.stop() == 0


def sheet_of(server: Server, order: AtlasOrder) -> tuple[Result, list[Progress]]:
    with server.client(timeout=10.0) as client:
        job = client.submit_atlas(order)
        progress: list[Progress] = []
        for event in client.events(job):
            if isinstance(event, Result):
                return event, progress
            assert isinstance(event, Progress), event
            progress.append(event)
    raise AssertionError("the atlas ended without a result")


def test_a_sheet_whose_cells_hold_the_cached_tiles_then_the_same_from_the_cache(
    server: tuple[Server, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    served, cache = server
    result, progress = sheet_of(served, ORDER)
    assert progress and all(0 < event.fraction <= 1 for event in progress)
    assert (result.channels, result.dtype) == (3, "u8") and result.atlas is not None
    sheet = np.frombuffer(result.pixels, np.uint8).reshape(result.height, result.width, 3)
    assert result.atlas.layer == LAYER and result.atlas.channels == (4, 5, 6, 7) and result.atlas.dreamed == 4
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    tiles = TileCache.of("mobilenet", "imagenet", LAYER, AtlasSettings(size=32))
    for channel, (x, y, width, height) in zip(result.atlas.channels, result.atlas.cells, strict=True):
        tile = tiles.tile(channel)
        assert tile is not None and tile.std() > 1, channel
        np.testing.assert_array_equal(sheet[y : y + height, x : x + width], tile)
        assert result.atlas.channel_at(x + width // 2, y + height - 1) == channel
    again, _ = sheet_of(served, ORDER)
    assert again.atlas is not None and again.atlas.dreamed == 0 and again.pixels == result.pixels


def test_an_atlas_is_cancelled_and_the_server_answers_meanwhile(server: tuple[Server, Path]) -> None:
    served, _ = server
    with served.client(timeout=10.0) as client, served.client(timeout=10.0) as other:
        job = client.submit_atlas(AtlasOrder("conv_pw_13_relu", 0, 63, 64))
        first = next(client.events(job))
        assert isinstance(first, Progress)
        assert other.hello()["running"] == job  # the server's thread is free while the worker renders
        client.cancel(job)
        assert isinstance(list(client.events(job))[-1], Cancelled)
    assert served.facts()["jobs_cancelled"] >= 1


def test_what_the_layer_lacks_is_refused_with_what_it_has(server: tuple[Server, Path]) -> None:
    served, _ = server
    with served.client(timeout=10.0) as client:
        with pytest.raises(UnknownLayer, match="conv_pw_3_relu"):
            client.submit_atlas(AtlasOrder("mixed4", 0, 3))
        job = client.submit_atlas(AtlasOrder(LAYER, 30, 33, 32))
        with pytest.raises(BadRequest, match="channels 0 to 31; got 32, 33"):
            list(client.events(job))
