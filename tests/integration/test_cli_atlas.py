"""``reverie atlas`` and ``reverie layers IN`` as a user runs them, with a real MobileNet."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from reverie.atlas import sheets as atlas
from reverie.atlas.layout import layout
from reverie.cli.main import main

pytestmark = pytest.mark.slow

FAST = ["--model", "mobilenet", "--weights", "random", "--layer", "conv_pw_1_relu", "--size", "32"]
FAST += ["--octaves", "2", "--steps", "2", "-q"]


@pytest.fixture
def dreamed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The channels the engine dreams, in a private user cache."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    channels: list[int] = []
    render = atlas.render_channels

    def counted(*args: Any) -> Iterator[tuple[int, np.ndarray]]:
        for channel, tile in render(*args):
            channels.append(channel)
            yield channel, tile

    monkeypatch.setattr(atlas, "render_channels", counted)
    return channels


def test_a_sheet_of_channels_then_the_same_from_the_cache(
    tmp_path: Path, dreamed: list[int], capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = tmp_path / "first.png", tmp_path / "second.png"
    assert main(["atlas", *FAST, "--channels", "0-3", "-o", str(first)]) == 0
    assert dreamed == [0, 1, 2, 3]
    assert "4 dreamed and 0 from the cache" in capsys.readouterr().out
    sheet = np.asarray(Image.open(first))
    width, height = layout(4, 32).size
    assert sheet.shape == (height, width, 3)
    tiles = [sheet[top : top + 32, left : left + 32] for left, top in map(layout(4, 32).origin, range(4))]
    assert all(tile.std() > 1 for tile in tiles), "a tile is flat"
    assert not np.array_equal(tiles[0], tiles[1]), "two channels dreamed the same"

    assert main(["atlas", *FAST, "--channels", "0-3", "-o", str(second)]) == 0
    assert dreamed == [0, 1, 2, 3], "the second run dreamed again"
    assert "0 dreamed and 4 from the cache" in capsys.readouterr().out
    np.testing.assert_array_equal(np.asarray(Image.open(second)), sheet)

    assert main(["atlas", *FAST, "--channels", "2-5", "-o", str(second)]) == 0
    assert dreamed == [0, 1, 2, 3, 4, 5], "only the channels not yet in the cache are dreamed"


def test_a_channel_the_layer_lacks_is_one_line(
    tmp_path: Path, dreamed: list[int], capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "sheet.png"
    assert main(["atlas", *FAST, "--channels", "14-17", "-o", str(out)]) == 1
    assert "conv_pw_1_relu has channels 0 to 15; got 16, 17" in capsys.readouterr().err
    assert not out.exists() and dreamed == []
    assert main(["atlas", *FAST[:4], "--layer", "mixed4", "-o", str(out)]) == 1
    assert "valid layers: conv_pw_1_relu" in capsys.readouterr().err


def test_layers_in_lists_the_most_active_channels(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    picture = tmp_path / "small.png"
    Image.fromarray(np.random.default_rng(3).integers(0, 256, (60, 90, 3), dtype=np.uint8)).save(picture)
    assert main(["layers", "--model", "mobilenet"]) == 0
    plain = capsys.readouterr().out
    assert "most active" not in plain
    assert main(["layers", "--model", "mobilenet", "--weights", "random", str(picture)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(plain)
    listed = out[len(plain) :].splitlines()
    assert listed[0].startswith("channels most active on small.png")
    layers = ["conv_pw_3_relu", "conv_pw_5_relu", "conv_pw_7_relu", "conv_pw_9_relu", "conv_pw_11_relu"]
    layers += ["conv_pw_12_relu", "conv_pw_13_relu"]
    assert [line.split(":")[0].strip() for line in listed[1:]] == layers
    for line in listed[1:]:
        means = [float(item.split("(")[1].rstrip(")")) for item in line.split(":")[1].split(",")]
        assert len(means) == 5 and means == sorted(means, reverse=True)


def test_layers_with_an_unreadable_picture_prints_nothing_but_the_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["layers", "--model", "mobilenet", str(tmp_path / "missing.png")]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert "missing.png" in err and len(err.strip().splitlines()) == 1


def test_a_tile_does_not_depend_on_the_channels_beside_it() -> None:
    from reverie.atlas.render import AtlasSettings, render_channels
    from reverie.engine.loading import load_model

    model = load_model("mobilenet", "random")
    settings = AtlasSettings(size=32, octaves=2, steps=2)
    together = dict(render_channels(model, "conv_pw_1_relu", [5, 0, 9], settings))
    alone = dict(render_channels(model, "conv_pw_1_relu", [9], settings))
    assert list(together) == [5, 0, 9]
    # the same up to rounding: a batch of three may sum in another order than a batch of one
    assert np.abs(together[9].astype(int) - alone[9].astype(int)).max() <= 2
    assert not np.array_equal(together[5], together[9])


def test_each_batch_item_climbs_its_own_channel() -> None:
    from keras import ops

    from reverie.atlas.render import channel_objective

    activation = np.random.default_rng(1).random((3, 7, 8, 5)).astype(np.float32)
    losses = ops.convert_to_numpy(channel_objective([4, 0, 4])(activation))
    expected = [np.mean(activation[i, 2:-2, 2:-2, channel] ** 2) for i, channel in enumerate([4, 0, 4])]
    np.testing.assert_allclose(losses, expected, rtol=1e-6)
