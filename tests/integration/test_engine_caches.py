"""The engine's caches and caps on a real model: compiled objectives are bounded (least recently used dropped), and
tiles shrunk after the device ran out of memory grow back."""

from __future__ import annotations

import pytest

from reverie.engine import DreamParams, load_model, tile_planner


@pytest.fixture(scope="module")
def mobilenet():
    return load_model("mobilenet", "random")


def test_compiled_objectives_are_kept_up_to_the_limit_least_recently_used_dropped(mobilenet, monkeypatch) -> None:
    monkeypatch.setattr(mobilenet, "compiled_kept", 2)
    first = mobilenet.gradient_fn({"conv_pw_7_relu": 1.0}, {})
    second = mobilenet.gradient_fn({"conv_pw_7_relu": 2.0}, {})
    assert mobilenet.gradient_fn({"conv_pw_7_relu": 1.0}, {}) is first  # used again: now the most recent
    mobilenet.gradient_fn({"conv_pw_7_relu": 3.0}, {})  # the least recently used (2.0) goes
    assert mobilenet.gradient_fn({"conv_pw_7_relu": 1.0}, {}) is first
    assert mobilenet.gradient_fn({"conv_pw_7_relu": 2.0}, {}) is not second


def test_tiles_shrunk_for_lack_of_memory_grow_back_after_a_while(mobilenet, monkeypatch) -> None:
    params = DreamParams(model="mobilenet", tile_size=1024)
    full = mobilenet.tiles.plan(params)
    one_tile = tile_planner.TilePlan(full.tile, full.overlap, 1, full.fixed)
    monkeypatch.setattr(mobilenet.tiles, "is_out_of_memory", lambda error: True)
    mobilenet.tiles.out_of_memory(MemoryError("out of memory"), params, failed=one_tile)
    assert mobilenet.tiles.plan(params).tile == full.tile // 2, "the cap holds for the next dreams"
    monkeypatch.setattr(tile_planner, "MEMORY_CAP_SECONDS", 0.0)
    assert mobilenet.tiles.plan(params) == full
