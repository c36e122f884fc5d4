"""The guide's size and its feature vectors, with a stand-in extractor."""

from __future__ import annotations

import numpy as np

from reverie.engine.guide import GUIDE_SIDE, MAX_GUIDE_VECTORS, guide_features, guide_shape


def test_a_guide_is_seen_at_its_own_size_within_bounds() -> None:
    assert guide_shape(300, 451, 75) == (300, 451)
    assert guide_shape(3000, 4000, 75) == (384, GUIDE_SIDE)
    assert guide_shape(40, 200, 75) == (75, 375)


def test_shallow_layers_keep_an_even_grid_of_at_most_so_many_vectors() -> None:
    def extractor(inputs: list[np.ndarray], training: bool) -> list[np.ndarray]:
        image = inputs[0]
        return [image[:, ::2, ::2, :2], image[:, ::16, ::16, :]]  # a shallow and a deep layer

    guide = np.random.default_rng(0).random((512, 512, 3), dtype=np.float32)
    features = guide_features(extractor, ("shallow", "deep"), guide, 32)
    assert features["shallow"].shape[1] == 2 and 0 < len(features["shallow"]) <= MAX_GUIDE_VECTORS
    assert features["deep"].shape == ((32 - 4) ** 2, 3)  # 28² after the border, all kept
