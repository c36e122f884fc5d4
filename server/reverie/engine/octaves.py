"""Octave sizes, and resizing and detail re-injection of the dream's image on the host (see ``backends.host``)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from PIL import Image

from reverie_wire.errors import ImageTooSmall


def octave_shapes(
    height: int, width: int, octaves: int, scale: float, min_side: int
) -> tuple[list[tuple[int, int]], list[str]]:
    """Shapes from smallest to the original, as the Keras example computes them; octaves whose
    smaller side would fall under ``min_side`` are dropped, with a note saying so."""
    if min(height, width) < min_side:
        raise ImageTooSmall(
            f"the image is {width}×{height} pixels; these layers need at least {min_side}×{min_side}: "
            "use a larger image or shallower layers"
        )
    shapes = [(int(height / scale**i), int(width / scale**i)) for i in range(octaves)]
    kept = [shape for shape in shapes if min(shape) >= min_side]
    notes = []
    if len(kept) < octaves:
        notes.append(
            f"used {len(kept)} of {octaves} octaves: smaller octaves would fall under the model's "
            f"minimum input of {min_side} pixels"
        )
    return kept[::-1], notes


def octave_rooms(
    shapes: list[tuple[int, int]], top: tuple[int, int], scale: float
) -> dict[tuple[int, int], tuple[int, int]]:
    """Each octave's room: the same octave (counted from the full size down) of a picture of shape ``top``,
    at least the full size. An octave padded as its room would be is padded alike for every picture whose full
    size pads to ``top``, whatever its own size: those pictures share every compiled shape."""
    return {shape: (int(top[0] / scale**i), int(top[1] / scale**i)) for i, shape in enumerate(shapes[::-1])}


# Output rows per band when resizing: a large image's transition holds a few bands, not whole channels.
_BAND = 256


def _resized_bands(channel: np.ndarray, shape: tuple[int, int]) -> Iterator[tuple[slice, np.ndarray]]:
    """One H×W float32 channel resized to ``shape`` (bilinear, antialiased when shrinking), in bands of
    output rows: Pillow reads past a band's source box where its filter needs, so bands join seamlessly."""
    source = Image.fromarray(np.ascontiguousarray(channel), mode="F")
    height, width = shape
    scale = channel.shape[0] / height
    for top in range(0, height, _BAND):
        bottom = min(top + _BAND, height)
        box = (0.0, top * scale, float(channel.shape[1]), bottom * scale)
        band = source.resize((width, bottom - top), Image.Resampling.BILINEAR, box=box)
        yield slice(top, bottom), np.asarray(band)


def resize_channel(channel: np.ndarray, shape: tuple[int, int], out: np.ndarray | None = None) -> np.ndarray:
    """One H×W float32 channel resized to ``shape`` (bilinear, antialiased when shrinking), written band by
    band into ``out`` (a new array when None)."""
    resized = np.empty(shape, np.float32) if out is None else out
    for rows, band in _resized_bands(channel, shape):
        resized[rows] = band
    return resized


def resize(image: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Bilinear resize of an H×W×C float32 image (antialiased when shrinking) into one new array."""
    if image.shape[:2] == shape:
        same: np.ndarray = image.copy()  # NumPy's stubs type copy() as Any before Python 3.11
        return same
    resized = np.empty((*shape, image.shape[2]), np.float32)
    for c in range(image.shape[2]):
        resize_channel(image[:, :, c], shape, out=resized[:, :, c])
    return resized


def _model_range(source: np.ndarray, c: int, shape: tuple[int, int]) -> Iterator[tuple[slice, np.ndarray]]:
    """Channel ``c`` of ``source`` (in [0, 1]) at ``shape`` in the model's [-1, 1] range, in bands of rows."""
    bands: Iterator[tuple[slice, np.ndarray]]
    if source.shape[:2] == shape:
        bands = ((slice(top, top + _BAND), source[top : top + _BAND, :, c]) for top in range(0, shape[0], _BAND))
    else:
        bands = _resized_bands(source[:, :, c], shape)
    for rows, band in bands:
        yield rows, band * 2.0 - 1.0


def reinject_detail(current: np.ndarray, source: np.ndarray, previous: tuple[int, int]) -> None:
    """Add back, in place, the detail the octaves so far lost (the Keras example's lost detail): ``source``
    (in [0, 1]) at ``current``'s size, less ``source`` shrunk to the ``previous`` octave's size and scaled
    back up, both in the model's [-1, 1] range.

    Band by band and channel by channel, the shrunk source recomputed rather than kept between octaves:
    a large image's transition holds one small channel and a few bands beside the arrays it needs."""
    shape = current.shape[:2]
    for c in range(current.shape[2]):
        for rows, band in _model_range(source, c, shape):
            current[rows, :, c] += band
        shrunk = resize_channel(source[:, :, c], previous) * 2.0 - 1.0
        for rows, band in _resized_bands(shrunk, shape):
            current[rows, :, c] -= band
