"""Turning caller pixels (grey/RGB, with or without alpha, 8/16-bit or float) into engine input and back.

The engine only sees float RGB in [0, 1]; this module keeps everything else (alpha above all)
bit-exact, so the command line and the server treat images the same way.
"""

from __future__ import annotations

import numpy as np

from reverie_wire.errors import BadRequest

DTYPES: dict[str, np.dtype] = {"u8": np.dtype(np.uint8), "u16": np.dtype(np.uint16), "f32": np.dtype(np.float32)}
_SCALE = {"u8": 255.0, "u16": 65535.0, "f32": 1.0}
# ITU-R BT.709 luma, as GIMP's desaturate-to-luminance uses.
_LUMA = np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)


def dtype_name(array: np.ndarray) -> str:
    """The protocol's name for an array's sample type."""
    for name, dtype in DTYPES.items():
        if array.dtype == dtype:
            return name
    raise BadRequest(f"pixels must be 8-bit, 16-bit or 32-bit float, not {array.dtype}")


def colour_channels(channels: int) -> int:
    """How many of ``channels`` are colour (the rest is alpha)."""
    if channels not in (1, 2, 3, 4):
        raise BadRequest(f"an image has 1 to 4 channels (grey, grey+alpha, RGB, RGBA), not {channels}")
    return 1 if channels <= 2 else 3


def to_dream_input(pixels: np.ndarray) -> np.ndarray:
    """Float32 RGB in [0, 1] from H×W×C pixels; alpha is dropped here and restored by ``from_dream_output``."""
    if pixels.ndim != 3:
        raise BadRequest(f"pixels must be height × width × channels, got shape {pixels.shape}")
    colour = colour_channels(pixels.shape[2])
    name = dtype_name(pixels)
    rgb = pixels[:, :, :colour].astype(np.float32)
    if name == "f32":  # only floats can be out of range or not numbers at all
        if not np.isfinite(rgb).all():
            raise BadRequest("the image holds NaN or infinite values")
        np.clip(rgb, 0.0, 1.0, out=rgb)
    else:
        rgb *= np.float32(1.0 / _SCALE[name])
    return np.repeat(rgb, 3, axis=2) if colour == 1 else rgb


def strength_map(pixels: np.ndarray) -> np.ndarray:
    """A strength map (H×W float32 in [0, 1]) from grey or colour pixels: a colour map's luminance, alpha
    ignored, integer samples scaled to [0, 1] (255 is full strength), floats clipped to it."""
    try:
        grey = to_dream_input(pixels) @ _LUMA
    except BadRequest as error:
        raise BadRequest(f"strength: {error}") from None
    return np.clip(grey, 0.0, 1.0, out=grey)


def from_dream_output(rgb: np.ndarray, original: np.ndarray) -> np.ndarray:
    """The dreamed RGB in the original's layout and sample type, its alpha copied bit-exact."""
    colour = colour_channels(original.shape[2])
    dream = rgb @ _LUMA[:, None] if colour == 1 else rgb
    name = dtype_name(original)
    if name == "f32":
        converted = dream.astype(np.float32)
    else:
        converted = np.rint(np.clip(dream, 0.0, 1.0) * _SCALE[name]).astype(DTYPES[name])
    out = original.copy()
    out[:, :, :colour] = converted
    return out
