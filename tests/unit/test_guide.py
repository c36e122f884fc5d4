"""The guide's size and its feature vectors, with a stand-in extractor."""

from __future__ import annotations

import numpy as np
import pytest

from reverie.engine import DreamParams, get_spec, octave_ascent
from reverie.engine.guide import GUIDE_MAX_SIDE, GUIDE_SIDE, MAX_GUIDE_VECTORS, guide_features, guide_shape
from reverie_wire.errors import DreamCancelled, ImageTooSmall


def test_a_guide_is_seen_at_its_own_size_within_bounds() -> None:
    assert guide_shape(300, 451, 75) == (300, 451)
    assert guide_shape(3000, 4000, 75) == (384, GUIDE_SIDE)
    assert guide_shape(40, 200, 75) == (75, 375)


def test_a_guide_is_enlarged_no_more_than_an_image_nor_seen_longer_than_its_limit() -> None:
    assert guide_shape(10, 500, 75) == (75, 3750)  # 7.5×
    with pytest.raises(ImageTooSmall, match=r"guide: the guide is 2048×1 pixels; .* enlarges at most 8×"):
        guide_shape(1, 2048, 75)
    with pytest.raises(ImageTooSmall, match=f"it would be 15360×75, and a guide is seen at most {GUIDE_MAX_SIDE}"):
        guide_shape(10, 2048, 75)


def test_shallow_layers_keep_an_even_grid_of_at_most_so_many_vectors() -> None:
    def extractor(inputs: list[np.ndarray], training: bool) -> list[np.ndarray]:
        image = inputs[0]
        return [image[:, ::2, ::2, :2], image[:, ::16, ::16, :]]  # a shallow and a deep layer

    guide = np.random.default_rng(0).random((512, 512, 3), dtype=np.float32)
    features = guide_features(extractor, ("shallow", "deep"), guide, 32)
    assert features["shallow"].shape[1] == 2 and 0 < len(features["shallow"]) <= MAX_GUIDE_VECTORS
    assert features["deep"].shape == ((32 - 4) ** 2, 3)  # 28² after the border, all kept


class _NoLook:
    """A model that fails if the guide is looked at."""

    spec = get_spec("mobilenet")

    def min_side(self, layers: tuple[str, ...]) -> int:
        return 32

    def gradient_fn(self, *args: object) -> None:
        raise AssertionError("a cancelled job's guide was looked at")


def test_a_job_cancelled_before_its_guide_is_looked_at_stops_there() -> None:
    image = np.zeros((64, 64, 3), np.float32)
    params = DreamParams(model="mobilenet", octaves=1, steps=1)
    with pytest.raises(DreamCancelled):
        octave_ascent.dream(image, params, _NoLook(), should_cancel=lambda: True, guide=image)  # type: ignore[arg-type]
