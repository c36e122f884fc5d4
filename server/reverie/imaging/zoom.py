"""Zoom animations: each frame a dream of the previous one zoomed (and rotated) about its centre, saved as
an animated WebP or GIF (Pillow), the classic "infinite zoom"."""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from reverie.imaging.images import _new_file_mode as new_file_mode
from reverie_wire.errors import BadRequest

ANIMATIONS = {".webp": "WEBP", ".gif": "GIF"}
# Each frame shows for this long; GIMP's layer names carry it too ("Frame 3 (100ms)").
FRAME_MS = 100
# The source is mirrored this far (a fraction of its size) beyond its edges before a rotation, so that the
# corners a rotation uncovers show picture, not black.
_MARGIN = 0.25


def animation_format(path: str | os.PathLike[str]) -> str:
    """The Pillow format for an animation's path, checked before any work: .webp or .gif, in a folder this
    user may write in."""
    path = Path(path)
    fmt = ANIMATIONS.get(path.suffix.lower())
    if fmt is None or path.is_dir():
        raise BadRequest(f"cannot write {path}: name a .webp or .gif file for the animation")
    Image.init()
    if fmt not in Image.SAVE or (fmt == "WEBP" and "WEBP" not in Image.SAVE_ALL):
        raise BadRequest(f"cannot write {path.name}: this Pillow cannot write animated {fmt}; use .gif")
    folder = path.parent
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        raise BadRequest(f"cannot write {path}: {folder} is not a folder this user may write in")
    return fmt


def zoomed(pixels: np.ndarray, zoom: float, rotate: float) -> np.ndarray:
    """``pixels`` (H×W×C, any sample type) enlarged ``zoom`` times and turned ``rotate`` degrees
    (anticlockwise) about the centre, cut to the same size and sample type (bicubic)."""
    height, width, channels = pixels.shape
    pad = math.ceil(_MARGIN * max(height, width))
    angle = math.radians(rotate)
    scale = 1.0 / zoom
    a, b = scale * math.cos(angle), -scale * math.sin(angle)
    d, e = scale * math.sin(angle), scale * math.cos(angle)
    # Output pixel (x, y) samples the padded source at the affine map of (x, y) about both centres.
    cx, cy = width / 2, height / 2
    coefficients = (a, b, cx + pad - a * cx - b * cy, d, e, cy + pad - d * cx - e * cy)
    out = np.empty(pixels.shape, np.float32)
    for c in range(channels):
        plane = np.pad(pixels[:, :, c].astype(np.float32), pad, mode="symmetric")
        turned = Image.fromarray(plane, mode="F").transform(
            (width, height), Image.Transform.AFFINE, coefficients, Image.Resampling.BICUBIC
        )
        out[:, :, c] = np.asarray(turned)
    if pixels.dtype == np.float32:
        return out
    top = np.iinfo(pixels.dtype).max
    return np.rint(np.clip(out, 0, top)).astype(pixels.dtype)


def _eight_bit(pixels: np.ndarray) -> Image.Image:
    """A frame as an 8-bit RGB(A) Pillow image, as WebP and GIF hold them."""
    if pixels.dtype != np.uint8:
        scale = 255.0 / 65535.0 if pixels.dtype == np.uint16 else 255.0
        pixels = np.rint(np.clip(pixels.astype(np.float32) * scale, 0, 255)).astype(np.uint8)
    if pixels.shape[2] <= 2:  # grey (and alpha): RGB(A) with equal channels
        pixels = np.concatenate([np.repeat(pixels[:, :, :1], 3, axis=2), pixels[:, :, 1:]], axis=2)
    return Image.fromarray(pixels)


def save_animation(frames: Sequence[np.ndarray], path: str | os.PathLike[str], frame_ms: int = FRAME_MS) -> None:
    """Write ``frames`` as a looping animation, each shown ``frame_ms``, atomically (temporary file, then
    rename)."""
    path = Path(path)
    fmt = animation_format(path)
    images = [_eight_bit(frame) for frame in frames]
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent.resolve())
    try:
        os.fchmod(handle, new_file_mode())
        with os.fdopen(handle, "wb") as file:
            images[0].save(
                file, format=fmt, save_all=True, append_images=images[1:], duration=frame_ms, loop=0, quality=90
            )
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
