"""Tile layout and blending, with a stand-in gradient so the arithmetic is checked exactly."""

import itertools

import numpy as np
import pytest

from reverie.engine.tiling import TileLayout, tile_starts, tiled_gradient


def pointwise_gradient(tiles: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A gradient that depends on each pixel alone, so blending must reproduce it exactly."""
    return tiles.sum(axis=(1, 2, 3)), np.sin(tiles * 3.0)


@pytest.mark.parametrize(
    ("length", "tile", "overlap"), [(100, 128, 32), (1000, 256, 64), (257, 256, 64), (4096, 1024, 128)]
)
def test_tiles_cover_everything_with_the_overlap(length: int, tile: int, overlap: int) -> None:
    starts = tile_starts(length, tile, overlap)
    size = min(tile, length)
    covered = np.zeros(length, bool)
    for start in starts:
        covered[start : start + size] = True
        assert 0 <= start <= length - size
    assert covered.all()
    assert all(b - a <= tile - overlap for a, b in itertools.pairwise(starts))


def test_blending_a_pointwise_gradient_is_exact() -> None:
    image = np.random.default_rng(1).random((300, 410, 3), dtype=np.float32)
    layout = TileLayout.for_shape(300, 410, 128, 32)
    assert layout.count > 4
    _, blended = tiled_gradient(image, layout, pointwise_gradient, batch=3)
    np.testing.assert_allclose(blended, np.sin(image * 3.0), rtol=1e-5, atol=1e-6)


def test_one_tile_equals_the_whole_image() -> None:
    image = np.random.default_rng(2).random((90, 120, 3), dtype=np.float32)
    layout = TileLayout.for_shape(90, 120, 128, 32)
    loss, gradient = tiled_gradient(image, layout, pointwise_gradient, batch=2)
    whole_loss, whole_gradient = pointwise_gradient(image[None])
    assert layout.count == 1
    assert loss == pytest.approx(float(whole_loss[0]))
    np.testing.assert_array_equal(gradient, whole_gradient[0])


def test_feather_weights_fall_off_only_towards_neighbours() -> None:
    layout = TileLayout.for_shape(300, 300, 128, 32)
    corner = layout.weight(0, 0)[:, :, 0]
    assert corner[0, 0] == 1.0  # the image's own edge keeps full weight
    assert corner[-1, -1] < 0.01  # the edge that meets the next tile fades out


def test_fixed_tiles_mirror_a_small_image_out_to_a_whole_tile() -> None:
    """Backends that compile per shape see only tile×tile inputs; the mirrored part's gradient is dropped."""
    image = np.random.default_rng(3).random((90, 300, 3), dtype=np.float32)
    layout = TileLayout.for_shape(90, 300, 128, 32, fixed=True)
    shapes = []

    def recording_gradient(tiles: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        shapes.append(tiles.shape[1:3])
        return pointwise_gradient(tiles)

    _, blended = tiled_gradient(image, layout, recording_gradient, batch=2)
    assert set(shapes) == {(128, 128)}
    assert blended.shape == image.shape
    np.testing.assert_allclose(blended, np.sin(image * 3.0), rtol=1e-5, atol=1e-6)
