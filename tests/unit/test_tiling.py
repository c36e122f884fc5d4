"""Tile layout and blending, with a stand-in gradient so the arithmetic is checked exactly."""

import itertools

import numpy as np
import pytest

from reverie.engine.backends.host_tiles import tiled_gradient
from reverie.engine.tiling import TileLayout, tile_starts


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


def test_blending_a_pointwise_gradient_gives_it_back() -> None:
    image = np.random.default_rng(1).random((300, 410, 3), dtype=np.float32)
    layout = TileLayout.for_shape(300, 410, 128, 32)
    assert layout.count > 4
    _, blended = tiled_gradient(image, layout, pointwise_gradient, batch=3)
    np.testing.assert_allclose(blended, np.sin(image * 3.0), atol=8e-3)  # bfloat16 sums: 8-bit mantissa


def positional_gradient(tiles: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A gradient that also depends on where each pixel sits in its tile, so a wrong shift or blend shows."""
    rows = np.arange(tiles.shape[1], dtype=np.float32)[None, :, None, None]
    cols = np.arange(tiles.shape[2], dtype=np.float32)[None, None, :, None]
    return tiles.sum(axis=(1, 2, 3)), np.sin(tiles * 3.0) + 0.01 * rows - 0.02 * cols


@pytest.mark.parametrize(("tile", "fixed"), [(128, False), (1024, False), (512, True)])
@pytest.mark.parametrize("shift", [(0, 0), (7, -13), (-31, 29)])
def test_a_shift_is_the_gradient_of_the_rolled_image_rolled_back(
    tile: int, fixed: bool, shift: tuple[int, int]
) -> None:
    """The jitter moves tile indices, not the image: same result as rolling the image and the gradient back."""
    image = np.random.default_rng(4).random((300, 410, 3), dtype=np.float32)
    layout = TileLayout.for_shape(300, 410, tile, 32, fixed)
    before = image.copy()
    _, blended = tiled_gradient(image, layout, positional_gradient, batch=2, shift=shift)
    rolled = np.roll(image, shift, axis=(0, 1))
    _, want = tiled_gradient(rolled, layout, positional_gradient, batch=2)
    want = np.roll(want, (-shift[0], -shift[1]), axis=(0, 1))
    # as float32: NumPy 1.26 with ml_dtypes 0.3 cannot compare bfloat16 arrays in assert_allclose
    np.testing.assert_allclose(blended.astype(np.float32), want.astype(np.float32), rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(image, before)


def test_blend_windows_add_up_to_one_everywhere() -> None:
    layout = TileLayout.for_shape(700, 1300, 256, 64)
    coverage = np.zeros((700, 1300, 1), np.float32)
    for y, x in layout.origins():
        coverage[y : y + layout.tile_height, x : x + layout.tile_width] += layout.weight(y, x)
    np.testing.assert_allclose(coverage, 1.0, rtol=1e-6)


@pytest.mark.parametrize(
    ("length", "tile", "overlap", "fitted"),
    [
        (2048, 1024, 128, 768),
        (4096, 1024, 128, 922),
        (1045, 1024, 128, 587),
        (1024, 1024, 128, 1024),
        (700, 256, 64, 223),
    ],
)
def test_tiles_shrink_to_cover_a_side_with_no_more_tiles_than_needed(
    length: int, tile: int, overlap: int, fitted: int
) -> None:
    layout = TileLayout.for_shape(length, 300, tile, overlap)
    assert layout.tile_height == fitted
    assert len(layout.rows) == len(tile_starts(length, tile, overlap))  # as many tiles as before, smaller
    assert all(b - a <= fitted - overlap for a, b in itertools.pairwise(layout.rows))  # still overlapping
    assert layout.rows[-1] + fitted == length


def test_fitted_tiles_stay_above_the_layers_smallest_input_and_fixed_tiles_stay_whole() -> None:
    assert TileLayout.for_shape(300, 300, 256, 64, smallest=203).tile_height == 203  # fitted: 182
    assert TileLayout.for_shape(150, 300, 256, 64, smallest=203).tile_height == 150  # the whole side
    assert TileLayout.for_shape(2048, 300, 1024, 128, fixed=True).tile_height == 1024


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


@pytest.mark.parametrize(("height", "width", "tile"), [(90, 300, 128), (300, 410, 128), (300, 410, 512)])
def test_fixed_tiles_lie_on_a_wrapped_grid_and_copies_are_averaged(height: int, width: int, tile: int) -> None:
    """Backends that compile per shape see only tile×tile inputs, as many as cover the image once, without
    overlap; a pixel the wrapped grid reaches more than once gets the mean of its gradients there."""
    image = np.random.default_rng(3).random((height, width, 3), dtype=np.float32)
    layout = TileLayout.for_shape(height, width, tile, 32, fixed=True)
    assert layout.count == -(-height // tile) * -(-width // tile)
    shapes = []

    def recording_gradient(tiles: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        shapes.append(tiles.shape[1:3])
        return positional_gradient(tiles)

    shift = (11, -40)
    _, blended = tiled_gradient(image, layout, recording_gradient, batch=2, shift=shift)

    assert set(shapes) == {(tile, tile)}
    rows = (np.arange(layout.height) - shift[0]) % height
    cols = (np.arange(layout.width) - shift[1]) % width
    canvas = image[rows][:, cols]
    canvas_gradient = np.zeros(canvas.shape, np.float32)
    for y, x in layout.origins():
        _, gradient = positional_gradient(canvas[None, y : y + tile, x : x + tile])
        canvas_gradient[y : y + tile, x : x + tile] = gradient[0]
    want = np.zeros(image.shape, np.float64)
    copies = np.zeros(image.shape[:2])
    np.add.at(want, (rows[:, None], cols[None, :]), canvas_gradient)
    np.add.at(copies, (rows[:, None], cols[None, :]), 1)
    assert copies.max() > 1  # the grid does wrap past the image's end here
    np.testing.assert_allclose(blended, want / copies[:, :, None], atol=2e-2)  # bfloat16 sums: 8-bit mantissa
