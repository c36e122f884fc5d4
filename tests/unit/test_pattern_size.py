"""Pattern size: the shrink a picture gets to dream at its working resolution, and the change brought back."""

from __future__ import annotations

import math

import numpy as np
import pytest

from reverie.engine.octaves import resize
from reverie.engine.small_images import brought_back
from reverie_plugin.geometry import Rect, preview_params
from reverie_wire.pattern import working_scale, working_shape


def test_fine_and_pictures_at_or_under_the_working_size_are_not_shrunk() -> None:
    assert working_scale(3000, 4000, "fine") == 1.0
    assert working_scale(1000, 1000, "large") == 1.0  # exactly 1 MP
    assert working_scale(1200, 1600, "medium") == 1.0  # 1.92 MP
    assert working_shape(1200, 1600, 1.0) is None


@pytest.mark.parametrize(("size", "megapixels"), [("medium", 2.0), ("large", 1.0)])
def test_a_12_mp_photo_is_shrunk_to_its_working_megapixels_keeping_its_aspect(size: str, megapixels: float) -> None:
    scale = working_scale(3000, 4000, size)
    assert scale == pytest.approx(math.sqrt(megapixels / 12))
    height, width = working_shape(3000, 4000, scale) or (3000, 4000)
    assert height * width == pytest.approx(megapixels * 1e6, rel=0.002)
    assert width / height == pytest.approx(4 / 3, rel=0.002)


def test_the_short_side_stays_at_the_layers_smallest_input() -> None:
    assert working_shape(100, 20000, 0.1, min_side=75) == (75, 15000)
    assert working_shape(80, 20000, 0.1, min_side=75) == (75, 18750)
    assert working_shape(70, 20000, 0.1, min_side=75) is None  # the tiny-image path takes it


def test_only_the_change_is_resampled_and_the_originals_detail_is_kept() -> None:
    rng = np.random.default_rng(0)
    image = rng.uniform(0.2, 0.8, (120, 160, 3)).astype(np.float32)  # full of detail finer than the working size
    small = resize(image, (60, 80))
    change = np.zeros_like(small)
    change[20:40, 30:50] = 0.1
    restored = brought_back(image, small, small + change)
    assert restored.shape == image.shape
    np.testing.assert_allclose(restored[:30, :50], image[:30, :50], atol=1e-6)  # untouched: exactly the original
    np.testing.assert_allclose(restored - image, resize(change, (120, 160)), atol=1e-6)


def test_a_preview_is_dreamed_at_the_shrink_of_its_full_region() -> None:
    params = {"pattern_size": "medium", "seed": 3}
    assert preview_params(params, Rect(0, 0, 1600, 1200)) is params
    shrunk = preview_params(params, Rect(0, 0, 4000, 3000))
    assert shrunk == {**params, "pattern_scale": working_scale(3000, 4000, "medium")}
    assert preview_params({"pattern_size": "fine"}, Rect(0, 0, 4000, 3000)) == {"pattern_size": "fine"}
