"""Which part of a drawable the plug-in dreams on."""

from __future__ import annotations

import pytest

from reverie_plugin.geometry import (
    MAX_MARGIN,
    MIN_MARGIN,
    MIN_SIDE,
    PREVIEW_CONTEXT,
    PREVIEW_SIDE,
    Rect,
    context_margin,
    dream_region,
    preview_crop,
    with_context,
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


def test_preview_shows_a_full_scale_crop_of_the_full_runs_region_centred_on_the_selection() -> None:
    whole = Rect(0, 0, 3000, 2000)
    assert preview_crop(whole, None) == Rect(1244, 744, PREVIEW_SIDE, PREVIEW_SIDE)
    assert preview_crop(Rect(0, 0, 600, 400), None) == Rect(44, 0, PREVIEW_SIDE, 400)
    assert preview_crop(Rect(0, 0, 300, 200), None) == Rect(0, 0, 300, 200)
    selected = Rect(2000, 300, 900, 600)
    region = dream_region(3000, 2000, selected)
    crop = preview_crop(region, selected)
    assert (crop.x + crop.width // 2, crop.y + crop.height // 2) == (2450, 600)
    assert contains(region, crop) and (crop.width, crop.height) == (PREVIEW_SIDE, PREVIEW_SIDE)
    # Near the region's edge the crop stays inside it rather than centred.
    assert preview_crop(whole, Rect(10, 1990, 4, 4)) == Rect(0, 2000 - PREVIEW_SIDE, PREVIEW_SIDE, PREVIEW_SIDE)


def test_preview_context_stays_within_what_the_full_run_sees() -> None:
    region = Rect(100, 50, 2000, 1000)
    crop = Rect(600, 400, PREVIEW_SIDE, PREVIEW_SIDE)
    m = PREVIEW_CONTEXT
    assert with_context(crop, region) == Rect(600 - m, 400 - m, PREVIEW_SIDE + 2 * m, PREVIEW_SIDE + 2 * m)
    assert with_context(Rect(120, 60, 512, 512), region, 128) == Rect(100, 50, 532 + 128, 522 + 128)
    assert with_context(region, region) == region


def test_shifted_moves_to_image_coordinates() -> None:
    assert Rect(1, 2, 3, 4).shifted(10, 20) == Rect(11, 22, 3, 4)
