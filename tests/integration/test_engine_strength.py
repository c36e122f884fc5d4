"""A painted strength map with real TensorFlow (MobileNet, random weights): the dream grows where it is painted
and leaves the source alone where it is not."""

from __future__ import annotations

import numpy as np
import pytest

from reverie.engine import DreamParams, dream, load_model
from reverie_wire.errors import BadRequest

PARAMS = DreamParams(model="mobilenet", octaves=2, steps=5, step_size=0.05, seed=3, max_loss=None, keep_colors=False)


@pytest.fixture(scope="module")
def mobilenet():
    return load_model("mobilenet", "random")


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    from skimage import data

    return (data.astronaut()[100:300, 120:380].astype(np.float32) / 255.0).copy()


def halves(height: int, width: int) -> np.ndarray:
    """Black on the left half, white on the right: a map of its own size, not the picture's."""
    strength = np.zeros((height, width), np.float32)
    strength[:, width // 2 :] = 1.0
    return strength


def test_unpainted_pixels_keep_their_source_and_painted_ones_dream(mobilenet, photo) -> None:
    result = dream(photo, PARAMS, mobilenet, strength=halves(41, 57))
    levels = np.abs(np.round(result.image * 255) - np.round(photo * 255))
    width = photo.shape[1]
    reach = 16  # the map's resize blends a few pixels across its edge, at the picture's scale
    assert levels[:, : width // 2 - reach].max() <= 1
    assert levels[:, width // 2 + reach :].mean() > 3 * max(levels[:, : width // 2 - reach].mean(), 0.1)


def test_a_full_map_is_the_plain_dream_and_a_half_map_a_gentler_one(mobilenet, photo) -> None:
    plain = dream(photo, PARAMS, mobilenet)
    full = dream(photo, PARAMS, mobilenet, strength=np.ones((10, 10), np.float32))
    np.testing.assert_allclose(full.image, plain.image, atol=1e-6)
    half = dream(photo, PARAMS, mobilenet, strength=np.full((10, 10), 0.5, np.float32))
    change = {name: np.abs(r.image - photo).mean() for name, r in (("plain", plain), ("half", half))}
    assert 0.2 * change["plain"] < change["half"] < 0.8 * change["plain"], change


@pytest.mark.parametrize(
    "strength",
    [
        np.ones((4, 4, 1), np.float32),
        np.full((4, 4), 1.5, np.float32),
        np.full((4, 4), np.nan, np.float32),
        np.ones((4, 4), np.float64),
    ],
)
def test_bad_maps_are_refused(mobilenet, photo, strength) -> None:
    with pytest.raises(BadRequest, match="strength"):
        dream(photo, PARAMS, mobilenet, strength=strength)
