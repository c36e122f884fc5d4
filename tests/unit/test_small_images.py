"""The size a too-small image is dreamed at: its short side brought to the layers' smallest input."""

import pytest

from reverie.engine.small_images import enlarged_shape
from reverie_wire.errors import ImageTooSmall


def test_large_enough_images_are_dreamed_as_they_are() -> None:
    assert enlarged_shape(107, 400, 107) is None


def test_short_side_reaches_the_minimum_and_the_aspect_ratio_is_kept() -> None:
    assert enlarged_shape(64, 64, 107) == (107, 107)
    assert enlarged_shape(80, 120, 107) == (107, 161)
    assert enlarged_shape(120, 80, 107) == (161, 107)


def test_enlargement_is_bounded() -> None:
    assert enlarged_shape(14, 500, 107) == (107, 3822)
    with pytest.raises(ImageTooSmall, match="short side of 14 pixels"):
        enlarged_shape(13, 500, 107)
