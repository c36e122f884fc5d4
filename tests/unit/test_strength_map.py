"""The strength map's resizing and final blend, and its refusal where a backend's steps take none."""

from __future__ import annotations

import numpy as np
import pytest

from reverie.engine.strength import painted, strength_at
from reverie.imaging.pixels import strength_map
from reverie_wire.errors import BadRequest


def test_the_map_is_resized_to_each_shape_and_stays_within_0_and_1() -> None:
    strength = np.random.default_rng(0).random((13, 29), dtype=np.float32)
    resized = strength_at(strength, (40, 17))
    assert resized.shape == (40, 17) and resized.dtype == np.float32
    assert resized.min() >= 0.0 and resized.max() <= 1.0
    assert strength_at(strength, (13, 29)) is not strength  # a copy: steps never write into the caller's map


def test_the_blend_keeps_the_source_where_the_map_is_0_and_the_dream_where_it_is_1() -> None:
    rng = np.random.default_rng(1)
    source, dreamed = rng.random((20, 30, 3), dtype=np.float32), rng.random((20, 30, 3), dtype=np.float32)
    strength = np.zeros((20, 30), np.float32)
    strength[:, 15:] = 1.0
    blended = painted(source, dreamed.copy(), strength)
    np.testing.assert_array_equal(blended[:, :15], source[:, :15])
    np.testing.assert_allclose(blended[:, 15:], dreamed[:, 15:], atol=1e-6)


def test_maps_are_read_from_grey_or_colour_pixels_of_any_sample_type() -> None:
    grey = np.array([[[0], [255]]], np.uint8)
    np.testing.assert_allclose(strength_map(grey), [[0.0, 1.0]], atol=1e-6)
    colour = np.array([[[65535, 0, 0, 7], [0, 65535, 0, 7]]], np.uint16)  # alpha ignored, luminance kept
    np.testing.assert_allclose(strength_map(colour), [[0.2126, 0.7152]], atol=1e-6)
    floats = np.array([[[-0.5], [1.5]]], np.float32)  # clipped, as an image's floats are
    np.testing.assert_array_equal(strength_map(floats), [[0.0, 1.0]])
    with pytest.raises(BadRequest, match="strength: the image holds NaN"):
        strength_map(np.full((1, 2, 1), np.nan, np.float32))
