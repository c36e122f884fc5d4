"""Octave shapes: the Keras example's sizes, and shrinking instead of crashing on small images."""

import numpy as np
import pytest

from reverie.engine.octaves import octave_shapes, resize
from reverie.errors import ImageTooSmall


def test_shapes_match_the_keras_example() -> None:
    shapes, notes = octave_shapes(768, 1024, 3, 1.4, 107)
    assert shapes == [(391, 522), (548, 731), (768, 1024)]
    assert notes == []


def test_small_images_drop_octaves_and_say_so() -> None:
    shapes, notes = octave_shapes(150, 200, 3, 1.4, 107)
    assert shapes == [(107, 142), (150, 200)]
    assert "used 2 of 3 octaves" in notes[0]


def test_too_small_names_the_minimum() -> None:
    with pytest.raises(ImageTooSmall, match="at least 107×107"):
        octave_shapes(100, 300, 3, 1.4, 107)


def test_resize_keeps_float_values_and_shape() -> None:
    image = np.full((31, 17, 3), 0.25, np.float32)
    out = resize(image, (62, 40))
    assert out.shape == (62, 40, 3) and out.dtype == np.float32
    np.testing.assert_allclose(out, 0.25, atol=1e-6)
