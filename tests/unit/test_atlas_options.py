"""The atlas's channel ranges, settings and tile cache."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pytest

from reverie.atlas.cache import TileCache, weights_identity
from reverie.atlas.render import AtlasSettings, render_side, starting_noise
from reverie.cli.atlas import parse_channels
from reverie_wire.errors import BadRequest, WeightsMissing


@pytest.mark.parametrize(
    ("text", "channels"),
    [
        ("0-3", (0, 1, 2, 3)),
        ("5", (5,)),
        ("8-8", (8,)),
        ("10-12,3, 40", (10, 11, 12, 3, 40)),
        ("0-2,1-3", (0, 1, 2, 3)),
    ],
)
def test_channel_ranges(text: str, channels: tuple[int, ...]) -> None:
    assert parse_channels(text) == channels


@pytest.mark.parametrize("text", ["", "a", "3-1", "-1", "1-", "0-3,", "1.5", "2-x", "0-99999999999"])
def test_bad_channel_ranges_are_refused(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        parse_channels(text)


@pytest.mark.parametrize("change", [{"size": 16}, {"octaves": 0}, {"steps": 1000}, {"size": 64.5}, {"seed": -1}])
def test_settings_out_of_range_are_refused(change: dict[str, object]) -> None:
    with pytest.raises(BadRequest):
        AtlasSettings(**change)  # type: ignore[arg-type]


def test_a_deep_layer_dreams_larger_than_its_tile() -> None:
    settings = AtlasSettings(size=128, octaves=3, octave_scale=1.4)
    assert render_side(settings, 40) == 128
    assert render_side(settings, 159) == 312  # 159 × 1.4², so the smallest octave still fits the layer


@pytest.fixture
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_tiles_and_the_width_come_back_from_the_cache(cache_home: Path) -> None:
    cache = TileCache.of("mobilenet", "random", "conv_pw_1_relu", AtlasSettings())
    assert cache.folder.is_relative_to(cache_home / "reverie" / "atlas")
    assert cache.tile(3) is None and cache.width() is None
    tile = np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    cache.put(3, tile)
    cache.record_width(16)
    again = TileCache.of("mobilenet", "random", "conv_pw_1_relu", AtlasSettings())
    np.testing.assert_array_equal(again.tile(3), tile)
    assert again.width() == 16
    assert not list(cache.folder.glob("*.part"))


def test_a_damaged_tile_is_dreamed_again(cache_home: Path) -> None:
    cache = TileCache.of("mobilenet", "random", "conv_pw_1_relu", AtlasSettings())
    cache.folder.mkdir(parents=True)
    (cache.folder / "2.png").write_bytes(b"not a png")
    assert cache.tile(2) is None


def test_each_setting_weights_and_layer_have_their_own_tiles(cache_home: Path, tmp_path: Path) -> None:
    first = tmp_path / "a.h5"
    first.write_bytes(b"one")
    same = tmp_path / "copy.h5"
    same.write_bytes(b"one")
    other = tmp_path / "b.h5"
    other.write_bytes(b"two")
    folders = {
        TileCache.of("mobilenet", "random", "conv_pw_1_relu", AtlasSettings()).folder,
        TileCache.of("mobilenet", "imagenet", "conv_pw_1_relu", AtlasSettings()).folder,
        TileCache.of("mobilenet", "random", "conv_pw_2_relu", AtlasSettings()).folder,
        TileCache.of("mobilenet", "random", "conv_pw_1_relu", AtlasSettings(seed=1)).folder,
        TileCache.of("mobilenet", "random", "conv_pw_1_relu", AtlasSettings(steps=5)).folder,
        TileCache.of("mobilenet", str(first), "conv_pw_1_relu", AtlasSettings()).folder,
        TileCache.of("mobilenet", str(other), "conv_pw_1_relu", AtlasSettings()).folder,
    }
    assert len(folders) == 7
    assert weights_identity(str(first)) == weights_identity(str(same)) != weights_identity(str(other))


def test_a_missing_weights_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(WeightsMissing, match=r"nothing\.h5 does not exist"):
        weights_identity(str(tmp_path / "nothing.h5"))


def test_the_starting_noise_is_seeded_and_mostly_coarse() -> None:
    noise = starting_noise(np.random.default_rng([0, 7]), (128, 96), 0.2)
    np.testing.assert_array_equal(noise, starting_noise(np.random.default_rng([0, 7]), (128, 96), 0.2))
    assert noise.shape == (128, 96, 3) and noise.dtype == np.float32
    assert noise.std() == pytest.approx(0.2, rel=1e-4)
    blocks = noise.reshape(16, 8, 12, 8, 3).mean(axis=(1, 3))
    # white noise's 8×8 means keep 1/8 of its deviation; this keeps most of it
    assert blocks.std() > 0.5 * noise.std()
