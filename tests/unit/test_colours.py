"""Keep colours: the NumPy CIELAB conversion against scikit-image's, and the chroma transfer itself."""

from __future__ import annotations

import numpy as np
from skimage import color

from reverie.engine.colours import keep_colours, lab_to_rgb, rgb_to_lab


def test_lab_conversion_matches_scikit_image_both_ways() -> None:
    rgb = np.random.default_rng(0).random((40, 50, 3), dtype=np.float32)
    np.testing.assert_allclose(rgb_to_lab(rgb), color.rgb2lab(rgb), atol=1e-2)  # scikit-image works in float32
    lab = color.rgb2lab(rgb)
    np.testing.assert_allclose(lab_to_rgb(lab), color.lab2rgb(lab), atol=1e-3)  # a quarter of an 8-bit level
    np.testing.assert_allclose(lab_to_rgb(rgb_to_lab(rgb)), rgb, atol=1e-5)


def test_lightness_comes_from_the_dream_and_chroma_from_the_source() -> None:
    rng = np.random.default_rng(1)
    # In-gamut colours: mid lightness, moderate chroma, so nothing is clipped.
    source = (0.3 + 0.4 * rng.random((600, 70, 3))).astype(np.float32)  # more rows than one band
    dreamed = np.clip(source + rng.normal(0, 0.05, source.shape), 0, 1).astype(np.float32)
    dreamed_lab = rgb_to_lab(dreamed)
    kept = keep_colours(dreamed.copy(), source)
    assert kept.dtype == np.float32 and kept.shape == source.shape
    kept_lab, source_lab = rgb_to_lab(kept), rgb_to_lab(source)
    np.testing.assert_allclose(kept_lab[..., 0], dreamed_lab[..., 0], atol=0.05)
    np.testing.assert_allclose(kept_lab[..., 1:], source_lab[..., 1:], atol=0.5)
    assert np.abs(kept_lab[..., 1:] - rgb_to_lab(dreamed)[..., 1:]).mean() > 0.5  # the dream's own chroma is gone
