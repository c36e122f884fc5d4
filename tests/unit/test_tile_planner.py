"""The tile planner: the backend's policy within the dream's parameters, and the one answer to the device
running out of memory (half the batch, then half the tile, or tiles instead of a whole octave), logged once."""

from __future__ import annotations

import logging

import pytest

from reverie.engine import tile_planner
from reverie.engine.backends.base import TilePolicy
from reverie.engine.params import DreamParams
from reverie.engine.tile_planner import TilePlanner

PARAMS = DreamParams(tile_size=512, tile_overlap=64)


class OutOfMemory(RuntimeError):
    pass


def planner(batch: int = 4, bucket_pixels: int = 256 * 256) -> TilePlanner:
    policy = TilePolicy(fixed=True, tile=512, batch=batch, bucket_pixels=bucket_pixels)
    return TilePlanner(policy, lambda shape: (256, 256), lambda error: isinstance(error, OutOfMemory))


def test_the_plan_is_the_policy_within_the_dream_s_tile_size() -> None:
    plan = planner().plan(PARAMS.replace(tile_size=256))
    assert (plan.tile, plan.overlap, plan.batch, plan.fixed) == (256, 64, 4, True)
    assert plan.whole((200, 250)) and plan.padded((200, 250)) == (256, 256)


def test_a_whole_octave_is_padded_as_its_room_and_a_tiled_one_as_its_own_tiles() -> None:
    tiles = TilePlanner(
        TilePolicy(fixed=True, tile=512, batch=4, bucket_pixels=384 * 384),
        lambda shape: (-(-shape[0] // 128) * 128, -(-shape[1] // 128) * 128),
        lambda error: isinstance(error, OutOfMemory),
    )
    plan = tiles.plan(PARAMS)
    assert plan.padded((200, 250)) == (256, 256)
    assert plan.padded((200, 250), room=(300, 300)) == (384, 384)
    assert plan.padded((200, 250), room=(400, 300)) == (512, 512)  # the room's bucket is too large: tiles


def test_out_of_memory_halves_the_batch_then_the_tile_and_logs_each_once(caplog: pytest.LogCaptureFixture) -> None:
    tiles = planner(batch=2)
    with caplog.at_level(logging.WARNING, logger="reverie.engine.tile_planner"):
        tiles.out_of_memory(OutOfMemory(), PARAMS)
        assert (tiles.plan(PARAMS).batch, tiles.plan(PARAMS).tile) == (1, 512)
        tiles.out_of_memory(OutOfMemory(), PARAMS)
        assert (tiles.plan(PARAMS).batch, tiles.plan(PARAMS).tile) == (1, 256)
        tiles.out_of_memory(OutOfMemory(), PARAMS)
        assert tiles.plan(PARAMS).tile == tile_planner.MIN_TILE
        error = OutOfMemory("nothing smaller")
        with pytest.raises(OutOfMemory, match="nothing smaller"):
            tiles.out_of_memory(error, PARAMS)
    assert caplog.messages == [
        "out of device memory with 2 tile(s) of 512² at once; going on with 1 tile(s) of 512²",
        "out of device memory with 1 tile(s) of 512² at once; going on with 1 tile(s) of 256²",
        "out of device memory with 1 tile(s) of 256² at once; going on with 1 tile(s) of 128²",
    ]


def test_another_error_is_raised_as_it_is_and_changes_nothing() -> None:
    tiles = planner()
    before = tiles.plan(PARAMS)
    with pytest.raises(ValueError, match="not memory"):
        tiles.out_of_memory(ValueError("not memory"), PARAMS)
    assert tiles.plan(PARAMS) == before


def test_a_whole_octave_out_of_memory_sends_octaves_as_large_to_tiles_for_a_while(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    tiles = planner()
    with caplog.at_level(logging.WARNING, logger="reverie.engine.tile_planner"):
        tiles.out_of_memory(OutOfMemory(), PARAMS, whole=(256, 256))
    assert not tiles.plan(PARAMS).whole((200, 250))
    assert tiles.plan(PARAMS).batch == 4, "the tiles themselves stay as they were"
    assert caplog.messages == ["out of device memory with a whole 256×256 octave; going on with tiles"]
    monkeypatch.setattr(tile_planner, "MEMORY_CAP_SECONDS", 0.0)
    assert tiles.plan(PARAMS).whole((200, 250)), "full plans are tried again once the cap's time is up"
