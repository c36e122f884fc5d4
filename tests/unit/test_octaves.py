"""Octave shapes: the Keras example's sizes, and shrinking instead of crashing on small images."""

import numpy as np
import pytest

from reverie.engine.backends.host import HostCanvas
from reverie.engine.octaves import octave_rooms, octave_shapes, reinject_detail, resize
from reverie.engine.tiling import grid_span
from reverie_wire.errors import ImageTooSmall


def test_shapes_match_the_keras_example() -> None:
    shapes, notes = octave_shapes(768, 1024, 3, 1.4, 107)
    assert shapes == [(391, 522), (548, 731), (768, 1024)]
    assert notes == []


def test_small_images_drop_octaves_and_say_so() -> None:
    shapes, notes = octave_shapes(150, 200, 3, 1.4, 107)
    assert shapes == [(107, 142), (150, 200)]
    assert "used 2 of 3 octaves" in notes[0]


def test_too_small_names_the_minimum() -> None:
    with pytest.raises(ImageTooSmall, match="at least 107×107"):
        octave_shapes(100, 300, 3, 1.4, 107)


def test_rooms_pad_every_picture_of_a_bucket_as_the_bucket_itself() -> None:
    """A picture's octaves padded as their rooms are is padded as a picture filling its bucket: every size from
    641×897 to 768×1024 runs on the very shapes 768×1024 compiled, each octave room enough for its own."""

    def padded_octaves(height: int, width: int) -> list[tuple[int, int]]:
        shapes, _ = octave_shapes(height, width, 3, 1.4, 75)
        rooms = octave_rooms(shapes, grid_span((height, width), 128), 1.4)
        assert all(room[0] >= shape[0] and room[1] >= shape[1] for shape, room in rooms.items())
        return [grid_span(rooms[shape], 128) for shape in shapes]

    filling = padded_octaves(768, 1024)
    assert filling == [(512, 640), (640, 768), (768, 1024)]
    for height in range(641, 769, 7):
        for width in range(897, 1025, 9):
            assert padded_octaves(height, width) == filling, (height, width)
    # without rooms, 720×960's octaves take other shapes: its smallest, 367×489, pads to 384×512
    smallest = octave_shapes(720, 960, 3, 1.4, 75)[0][0]
    assert smallest == (367, 489) and grid_span(smallest, 128) == (384, 512)


def test_rooms_of_a_picture_with_octaves_dropped_follow_from_its_full_size() -> None:
    shapes, _ = octave_shapes(150, 200, 3, 1.4, 107)
    assert octave_rooms(shapes, (256, 256), 1.4) == {(107, 142): (182, 182), (150, 200): (256, 256)}


def test_resize_keeps_float_values_and_shape() -> None:
    image = np.full((31, 17, 3), 0.25, np.float32)
    out = resize(image, (62, 40))
    assert out.shape == (62, 40, 3) and out.dtype == np.float32
    np.testing.assert_allclose(out, 0.25, atol=1e-6)


@pytest.mark.parametrize("shape", [(50, 70), (80, 110)])
def test_reinjected_detail_is_the_keras_examples_lost_detail(shape: tuple[int, int]) -> None:
    """current + resize(original) - resize(shrunk original), with the original in the model's [-1, 1]."""
    rng = np.random.default_rng(5)
    source = rng.random((80, 110, 3), dtype=np.float32)
    shrunk = resize(source * 2.0 - 1.0, (35, 50))
    current = rng.random((*shape, 3), dtype=np.float32)
    want = current + resize(source * 2.0 - 1.0, shape) - resize(shrunk, shape)

    reinject_detail(current, source, (35, 50))

    np.testing.assert_allclose(current, want, atol=1e-5)


def test_resizing_in_bands_matches_resizing_whole() -> None:
    """Large channels are resized a band of rows at a time; the bands must join without a seam."""
    from PIL import Image

    channel = np.random.default_rng(6).random((300, 211), dtype=np.float32)
    for shape in [(700, 500), (120, 90)]:
        whole = np.asarray(Image.fromarray(channel, mode="F").resize(shape[::-1], Image.Resampling.BILINEAR))
        np.testing.assert_allclose(resize(channel[:, :, None], shape)[:, :, 0], whole, atol=1e-4)


def test_the_host_canvas_puts_detail_back_in_place() -> None:
    """No third image-sized array during a large image's octave change: grow, drop the old, add in place."""
    source = np.random.default_rng(7).random((80, 110, 3), dtype=np.float32)
    canvas = HostCanvas(source)
    grown = canvas.grow(canvas.first((35, 50)), (80, 110), (35, 50))
    before = grown.copy()

    reinjected = canvas.reinject(grown, (80, 110), (35, 50))

    assert reinjected is grown
    assert np.abs(reinjected - before).mean() > 0.01
