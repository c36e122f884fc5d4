"""An image as it travels: its pixels and their layout, one value on both ends of the wire.

Standard library only, like ``protocol``. The pixels are whatever buffer holds them (bytes, a received ZeroMQ
frame, a memoryview, a NumPy array on the server), held as they are and never copied.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

# Sample types and their sizes in bytes; rows are interleaved, channels 1..4 (grey, grey+alpha, RGB, RGBA).
DTYPE_SIZES: dict[str, int] = {"u8": 1, "u16": 2, "f32": 4}
MAX_CHANNELS = 4


@dataclass(frozen=True)
class ImageSpec:
    """The layout of a pixel buffer, as a header declares it."""

    width: int
    height: int
    channels: int
    dtype: str

    @property
    def pixels(self) -> int:
        return self.width * self.height

    @property
    def nbytes(self) -> int:
        return self.width * self.height * self.channels * DTYPE_SIZES[self.dtype]

    def to_dict(self) -> dict[str, Any]:
        return {"width": self.width, "height": self.height, "channels": self.channels, "dtype": self.dtype}


@dataclass(frozen=True)
class Image:
    """Pixels and their layout: a dream's image and each of its extra images (guide, strength map, …)."""

    pixels: Any = field(repr=False)
    width: int
    height: int
    channels: int
    dtype: str

    @classmethod
    def of(cls, spec: ImageSpec, pixels: Any) -> Image:
        return cls(pixels, spec.width, spec.height, spec.channels, spec.dtype)

    @property
    def spec(self) -> ImageSpec:
        return ImageSpec(self.width, self.height, self.channels, self.dtype)

    @property
    def nbytes(self) -> int:
        return self.spec.nbytes

    def layout(self) -> dict[str, Any]:
        """The layout as a header declares it."""
        return self.spec.to_dict()

    def with_pixels(self, convert: Callable[[Any], Any]) -> Image:
        """The same layout over ``convert(pixels)`` (another view of the same buffer, never a copy)."""
        return replace(self, pixels=convert(self.pixels))
