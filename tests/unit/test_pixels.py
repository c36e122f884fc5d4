"""Pixel layouts in and out of the engine: alpha bit-exact, grey stays grey, depth kept."""

import numpy as np
import pytest

from reverie.imaging.pixels import from_dream_output, to_dream_input
from reverie_wire.errors import BadRequest


@pytest.mark.parametrize(("dtype", "top"), [(np.uint8, 255), (np.uint16, 65535)])
@pytest.mark.parametrize("channels", [1, 2, 3, 4])
def test_round_trip_keeps_layout_and_alpha(dtype: type, top: int, channels: int) -> None:
    rng = np.random.default_rng(channels)
    pixels = rng.integers(0, top + 1, size=(13, 7, channels)).astype(dtype)
    rgb = to_dream_input(pixels)
    assert rgb.shape == (13, 7, 3) and rgb.dtype == np.float32
    out = from_dream_output(rgb, pixels)
    assert out.dtype == pixels.dtype and out.shape == pixels.shape
    np.testing.assert_array_equal(out, pixels)  # an unchanged dream gives the input back exactly
    if channels in (2, 4):
        dreamed = from_dream_output(1.0 - rgb, pixels)
        np.testing.assert_array_equal(dreamed[:, :, -1], pixels[:, :, -1])


def test_grey_comes_back_as_luminance() -> None:
    pixels = np.zeros((2, 2, 1), np.uint8)
    rgb = np.zeros((2, 2, 3), np.float32)
    rgb[..., 1] = 1.0
    assert from_dream_output(rgb, pixels)[0, 0, 0] == round(0.7152 * 255)


def test_float_pixels_stay_float() -> None:
    pixels = np.random.default_rng(0).random((4, 4, 4), dtype=np.float32)
    out = from_dream_output(to_dream_input(pixels), pixels)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, pixels)


@pytest.mark.parametrize(
    ("pixels", "words"),
    [
        (np.zeros((4, 4, 5), np.uint8), "1 to 4 channels"),
        (np.zeros((4, 4), np.uint8), "height × width × channels"),
        (np.zeros((4, 4, 3), np.int32), "8-bit, 16-bit or 32-bit float"),
        (np.full((4, 4, 3), np.nan, np.float32), "NaN"),
    ],
)
def test_bad_pixels_are_refused(pixels: np.ndarray, words: str) -> None:
    with pytest.raises(BadRequest, match=words):
        to_dream_input(pixels)
