"""The preview pane's geometry: where region and crop show, and where a drag moves the crop."""

from __future__ import annotations

from reverie_plugin.geometry import Rect
from reverie_plugin.pane_view import clipped, dragged_crop, fit_scale, in_view, region_origin

REGION = Rect(100, 50, 2048, 1536)
CROP = Rect(868, 562, 512, 512)


def test_fitting_shrinks_a_large_region_and_never_enlarges_a_small_one() -> None:
    assert fit_scale(REGION, 512, 512) == 0.25
    assert fit_scale(Rect(0, 0, 200, 100), 512, 512) == 1.0


def test_at_one_to_one_the_crop_is_centred_in_the_view() -> None:
    origin = region_origin(REGION, CROP, False, 1.0, 600, 540)
    assert in_view(CROP, REGION, origin, 1.0) == Rect(44, 14, 512, 512)


def test_fitted_the_whole_region_is_centred_and_the_crop_scaled() -> None:
    origin = region_origin(REGION, CROP, True, 0.25, 512, 512)
    assert origin == (0, 64)
    assert in_view(REGION, REGION, origin, 0.25) == Rect(0, 64, 512, 384)
    assert in_view(CROP, REGION, origin, 0.25) == Rect(192, 192, 128, 128)


def test_clipping_keeps_the_part_inside_the_view() -> None:
    assert clipped(Rect(-10, 5, 50, 50), 30, 30) == Rect(0, 5, 30, 25)
    assert clipped(Rect(40, 0, 5, 5), 30, 30) is None


def test_a_drag_at_one_to_one_moves_the_picture_and_so_the_crop_the_other_way() -> None:
    assert dragged_crop(REGION, CROP, 100, -40, False, 1.0) == Rect(768, 602, 512, 512)


def test_a_drag_fitted_moves_the_crop_with_the_pointer_in_drawable_pixels() -> None:
    assert dragged_crop(REGION, CROP, 100, -40, True, 0.25) == Rect(1268, 402, 512, 512)


def test_a_drag_never_takes_the_crop_out_of_the_region() -> None:
    assert dragged_crop(REGION, CROP, 5000, 5000, False, 1.0) == Rect(100, 50, 512, 512)
    assert dragged_crop(REGION, CROP, 5000, 5000, True, 0.25) == Rect(100 + 2048 - 512, 50 + 1536 - 512, 512, 512)
    tall = Rect(0, 0, 300, 800)
    assert dragged_crop(tall, Rect(0, 144, 300, 512), 0, 50, True, 0.5) == Rect(0, 244, 300, 512)
