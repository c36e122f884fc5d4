"""The ``atlas`` request's checks and the sheet's cells, as the server and the plug-in read them."""

from __future__ import annotations

import pytest

from reverie_wire import protocol
from reverie_wire.atlas import MAX_SHEET_CHANNELS, AtlasOrder, Sheet, atlas_order
from reverie_wire.errors import BadRequest
from reverie_wire.replies import Result


def test_an_order_round_trips_through_its_header() -> None:
    order = AtlasOrder("conv_pw_12_relu", 16, 31, 48)
    frames = protocol.encode({"type": "atlas", "job": "a-1", "atlas": order.to_dict()})
    request = protocol.parse_request(frames[1:], protocol.Limits())
    assert request == protocol.Atlas("a-1", order)
    assert protocol.encode(request.encode())[1] == frames[1]
    assert order.channels == tuple(range(16, 32))


def test_the_default_tile_and_the_widest_page() -> None:
    order = atlas_order({"layer": "mixed4", "channels": [0, MAX_SHEET_CHANNELS - 1]})
    assert order.tile == 64 and len(order.channels) == MAX_SHEET_CHANNELS
    with pytest.raises(BadRequest, match="channels' last must be a whole number from 0 to 255"):
        atlas_order({"layer": "mixed4", "channels": [0, MAX_SHEET_CHANNELS]})


def test_an_atlas_request_is_a_header_alone() -> None:
    header = protocol.encode({"type": "atlas", "job": "a", "atlas": {"layer": "x", "channels": [0, 1]}})[1]
    with pytest.raises(BadRequest, match="header alone"):
        protocol.parse_request([header, b"pixels"], protocol.Limits())


def test_a_click_finds_the_cell_it_lands_in() -> None:
    sheet = Sheet.from_dict(
        {"layer": "l", "channels": [7, 9], "cells": [[4, 22, 32, 32], [40, 22, 32, 32]], "dreamed": 1}
    )
    assert Sheet.from_dict(sheet.to_dict()) == sheet
    assert [sheet.channel_at(x, 30) for x in (3, 4, 35.9, 36, 40, 71.9, 72)] == [None, 7, 7, None, 9, 9, None]
    assert sheet.channel_at(10, 54) is None  # under the tile: its label
    with pytest.raises(ValueError, match="2 channels but 1 cells"):
        Sheet.from_dict({**sheet.to_dict(), "cells": [[4, 22, 32, 32]]})


def test_a_sheet_travels_in_its_result() -> None:
    sheet = Sheet("l", (3,), ((4, 22, 32, 32),), 0)
    result = Result("a-1", bytes(40 * 60 * 3), 40, 60, 3, "u8", 0, 1.5, 1.0, ["cached"], None, sheet)
    assert Result.decode(result.encode(), result.pixels) == result
    assert "atlas" not in Result("d", b"\0", 1, 1, 1, "u8", 0, 1.0, 1.0).encode()
