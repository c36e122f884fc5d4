"""How a drawable's pixels travel: the GEGL (babl) format to read and write, and what the server is told.

8-bit images travel as 8-bit, everything deeper as 32-bit float, so nothing is squeezed through 8 bits.
Grey stays grey (Y'/Y'A formats). INDEXED images travel as 8-bit RGB(A); the dream GIMP writes back
is mapped to the image's palette, because an indexed image can only hold palette colours.
"""

from __future__ import annotations

from dataclasses import dataclass

from reverie_plugin.geometry import Rect

BASE_TYPES = ("rgb", "gray", "indexed")


@dataclass(frozen=True)
class WireFormat:
    """``babl`` names the GEGL format; ``channels`` and ``dtype`` are what the protocol declares."""

    babl: str
    channels: int
    dtype: str

    @property
    def pixel_bytes(self) -> int:
        return self.channels * (1 if self.dtype == "u8" else 4)


def wire_format(base_type: str, has_alpha: bool, precision: str) -> WireFormat:
    """The format for a drawable of ``base_type`` at ``precision`` (a Gimp.Precision nick: "u16-linear")."""
    if base_type not in BASE_TYPES:
        raise ValueError(f"unknown image base type {base_type!r}")
    dtype = "u8" if base_type == "indexed" or precision.startswith("u8") else "f32"
    sample = "u8" if dtype == "u8" else "float"
    if base_type == "gray":
        return WireFormat(f"Y'A {sample}" if has_alpha else f"Y' {sample}", 2 if has_alpha else 1, dtype)
    return WireFormat(f"R'G'B'A {sample}" if has_alpha else f"R'G'B' {sample}", 4 if has_alpha else 3, dtype)


def cut(data: bytes, whole: Rect, part: Rect, wire: WireFormat) -> bytes:
    """The pixels of ``part`` out of ``data``, the interleaved pixels of ``whole`` (both in one coordinate
    system, ``part`` inside ``whole``)."""
    if part == whole:
        return data
    row = whole.width * wire.pixel_bytes
    start = (part.x - whole.x) * wire.pixel_bytes
    length = part.width * wire.pixel_bytes
    top = part.y - whole.y
    return b"".join(data[(top + y) * row + start : (top + y) * row + start + length] for y in range(part.height))
