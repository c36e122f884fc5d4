"""How each kind of GIMP drawable travels to the server."""

from __future__ import annotations

import pytest

from reverie_plugin.formats import WireFormat, cut, wire_format
from reverie_plugin.geometry import Rect


@pytest.mark.parametrize(
    ("base", "alpha", "precision", "expected"),
    [
        ("rgb", True, "u8-non-linear", WireFormat("R'G'B'A u8", 4, "u8")),
        ("rgb", False, "u8-linear", WireFormat("R'G'B' u8", 3, "u8")),
        ("rgb", True, "u16-non-linear", WireFormat("R'G'B'A float", 4, "f32")),
        ("rgb", False, "double-linear", WireFormat("R'G'B' float", 3, "f32")),
        ("gray", True, "u8-perceptual", WireFormat("Y'A u8", 2, "u8")),
        ("gray", False, "u32-linear", WireFormat("Y' float", 1, "f32")),
        ("gray", True, "half-non-linear", WireFormat("Y'A float", 2, "f32")),
        ("indexed", True, "u8-non-linear", WireFormat("R'G'B'A u8", 4, "u8")),
        ("indexed", False, "u8-non-linear", WireFormat("R'G'B' u8", 3, "u8")),
    ],
)
def test_wire_format(base: str, alpha: bool, precision: str, expected: WireFormat) -> None:
    assert wire_format(base, alpha, precision) == expected


def test_unknown_base_type_is_refused() -> None:
    with pytest.raises(ValueError, match="base type"):
        wire_format("cmyk", False, "u8-linear")


def test_cut_takes_a_rectangle_out_of_interleaved_pixels() -> None:
    wire = WireFormat("R'G'B'A float", 4, "f32")
    whole = Rect(10, 20, 5, 4)
    data = b"".join(bytes([i]) * wire.pixel_bytes for i in range(20))  # every byte of pixel i holds i
    part = cut(data, whole, Rect(11, 21, 3, 2), wire)
    assert [part[i * 16] for i in range(6)] == [6, 7, 8, 11, 12, 13]
    assert cut(data, whole, whole, wire) == data
