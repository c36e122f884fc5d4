"""The atlas's contact sheet: where each tile goes, and the label under it."""

from __future__ import annotations

import numpy as np
import pytest

from reverie.atlas.layout import BACKGROUND, GAP, LABEL, TITLE, contact_sheet, layout


def test_a_whole_layer_lies_on_a_square_grid() -> None:
    grid = layout(256, 128)
    assert (grid.columns, grid.rows) == (16, 16)
    assert grid.size == (GAP + 16 * (128 + GAP), TITLE + GAP + 16 * (128 + LABEL + GAP))


def test_a_part_fills_rows_and_leaves_the_last_short() -> None:
    grid = layout(5, 64)
    assert (grid.columns, grid.rows) == (3, 2)
    assert grid.origin(0) == (GAP, TITLE + GAP)
    assert grid.origin(2) == (GAP + 2 * (64 + GAP), TITLE + GAP)
    assert grid.origin(3) == (GAP, TITLE + GAP + 64 + LABEL + GAP)


def test_columns_given_are_kept_but_never_more_than_the_tiles() -> None:
    assert layout(10, 32, columns=4).rows == 3
    assert layout(3, 32, columns=8).columns == 3


def test_an_empty_sheet_is_refused() -> None:
    with pytest.raises(ValueError):
        layout(0, 32)


def test_each_tile_lands_at_its_place_with_ink_under_it() -> None:
    rng = np.random.default_rng(0)
    tiles = [(channel, rng.integers(0, 256, (48, 48, 3), dtype=np.uint8)) for channel in (7, 12, 250, 3)]
    sheet = contact_sheet(tiles, "mobilenet conv_pw_1_relu")
    grid = layout(4, 48)
    assert sheet.shape == (grid.size[1], grid.size[0], 3)
    assert sheet.dtype == np.uint8
    for index, (_, tile) in enumerate(tiles):
        left, top = grid.origin(index)
        np.testing.assert_array_equal(sheet[top : top + 48, left : left + 48], tile)
        label = sheet[top + 48 : top + 48 + LABEL, left : left + 48]
        assert (label < 128).any(), f"no channel number under tile {index}"
    assert (sheet[:TITLE, :] < 128).any(), "no title"
    gap = sheet[TITLE + GAP : TITLE + GAP + 48, GAP + 48 : 2 * GAP + 48]
    assert (gap == BACKGROUND).all()


def test_different_channel_numbers_draw_different_labels() -> None:
    tile = np.full((40, 40, 3), 128, np.uint8)
    first = contact_sheet([(1, tile)], "t")
    second = contact_sheet([(188, tile)], "t")
    assert not np.array_equal(first, second)
