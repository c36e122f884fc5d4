"""How each kind of GIMP drawable travels to the server."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "plugin"))

from reverie_plugin.formats import WireFormat, wire_format


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
