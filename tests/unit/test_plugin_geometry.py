"""Which part of a drawable the plug-in dreams on."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "plugin"))

from reverie_plugin.geometry import (
    MAX_MARGIN,
    MIN_MARGIN,
    MIN_SIDE,
    PREVIEW_CROP,
    Rect,
    context_margin,
    dream_region,
    preview_region,
    scaled_size,
)


def contains(outer: Rect, inner: Rect) -> bool:
    return (
        outer.x <= inner.x
        and outer.y <= inner.y
        and inner.x + inner.width <= outer.x + outer.width
        and inner.y + inner.height <= outer.y + outer.height
    )


def test_no_selection_is_the_whole_drawable() -> None:
    assert dream_region(640, 480, None) == Rect(0, 0, 640, 480)


def test_margin_is_an_eighth_of_the_long_side_within_bounds() -> None:
    assert context_margin(400, 100) == 50
    assert context_margin(10, 10) == MIN_MARGIN
    assert context_margin(4000, 10) == MAX_MARGIN


def test_selection_gets_its_margin_on_every_side_inside_the_drawable() -> None:
    assert dream_region(1000, 800, Rect(500, 400, 300, 200)) == Rect(462, 362, 376, 276)


@pytest.mark.parametrize(
    "selected",
    [Rect(0, 0, 10, 10), Rect(990, 790, 10, 10), Rect(0, 300, 1000, 20), Rect(450, 0, 30, 800), Rect(5, 5, 300, 300)],
)
def test_region_holds_the_selection_stays_inside_and_has_room(selected: Rect) -> None:
    region = dream_region(1000, 800, selected)
    assert contains(region, selected)
    assert contains(Rect(0, 0, 1000, 800), region)
    assert min(region.width, region.height) >= MIN_SIDE


def test_small_drawable_is_taken_whole_when_the_minimum_does_not_fit() -> None:
    assert dream_region(120, 90, Rect(10, 10, 60, 40)) == Rect(0, 0, 120, 90)


def test_preview_without_selection_is_a_central_crop() -> None:
    assert preview_region(3000, 2000, None) == Rect(988, 488, PREVIEW_CROP, PREVIEW_CROP)
    assert preview_region(600, 400, None) == Rect(0, 0, 600, 400)
    assert preview_region(1000, 800, Rect(500, 400, 300, 200)) == dream_region(1000, 800, Rect(500, 400, 300, 200))


def test_scaled_size_fits_the_long_side_and_never_enlarges() -> None:
    assert scaled_size(1024, 768, 512) == (0.5, 512, 384)
    assert scaled_size(300, 200, 512) == (1.0, 300, 200)
    assert scaled_size(5000, 3, 512)[1:] == (512, 1)


def test_shifted_moves_to_image_coordinates() -> None:
    assert Rect(1, 2, 3, 4).shifted(10, 20) == Rect(11, 22, 3, 4)
