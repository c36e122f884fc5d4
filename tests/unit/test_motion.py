"""The motion between two frames: a pure translation is recovered and undone, and what the flow cannot know
(picture hidden in one frame, or come in at its edge) is marked unreliable; a carried start keeps the source's
colours."""

from __future__ import annotations

import numpy as np
import pytest

from reverie.engine.colours import rgb_to_lab
from reverie.imaging.carried import CARRY, carried_start
from reverie.imaging.motion import flow, motion, reliable, warp
from reverie_wire.errors import BadRequest

SIZE = 96


def texture(height: int = SIZE + 40, width: int = SIZE + 40, seed: int = 0) -> np.ndarray:
    """Smooth random colour blobs: texture everywhere, as a flow needs, without aliasing when shifted."""
    rng = np.random.default_rng(seed)
    coarse = rng.random((height // 8 + 2, width // 8 + 2, 3)).astype(np.float32)
    fine = np.kron(coarse, np.ones((8, 8, 1), np.float32))[:height, :width]
    kernel = np.ones(7, np.float32) / 7
    for axis in (0, 1):
        fine = np.apply_along_axis(lambda line: np.convolve(line, kernel, mode="same"), axis, fine)
    return np.clip(fine, 0, 1).astype(np.float32)


def crop(picture: np.ndarray, dx: int, dy: int) -> np.ndarray:
    """A SIZE-square window of ``picture`` moved ``dx`` right and ``dy`` down: the picture seems to move by
    (-dx, -dy)."""
    return np.ascontiguousarray(picture[20 + dy : 20 + dy + SIZE, 20 + dx : 20 + dx + SIZE])


def test_a_translation_is_recovered_and_undone():
    picture = texture()
    previous, current = crop(picture, 0, 0), crop(picture, 3, 2)
    backward = flow(current, previous)  # each pixel of current is 3 right and 2 down in previous
    inner = backward[10:-10, 10:-10]
    assert np.allclose(np.median(inner.reshape(-1, 2), axis=0), [3, 2], atol=0.1)
    moved = motion(previous, current)
    assert moved.mask[10:-10, 10:-10].mean() > 0.97
    error = np.abs(moved.carried(previous) - current)[moved.mask]
    assert error.mean() < 0.01


def test_picture_from_beyond_the_edge_is_unreliable():
    picture = texture()
    previous, current = crop(picture, 0, 0), crop(picture, 6, 0)
    moved = motion(previous, current)
    # The rightmost 6 columns of current were outside previous: nothing there can be carried.
    assert not moved.mask[:, -5:].any()
    assert moved.mask[:, :-12].mean() > 0.95


def test_an_occlusion_is_unreliable():
    background = crop(texture(seed=1), 0, 0)
    square = texture(40, 40, seed=2)
    previous, current = background.copy(), background.copy()
    previous[28:68, 20:60] = square  # the square moves 12 px right over a still background
    current[28:68, 32:72] = square
    moved = motion(previous, current)
    # Background uncovered behind the square (x 20..32) was hidden in the previous frame.
    uncovered = moved.mask[34:62, 22:30]
    assert uncovered.mean() < 0.3
    assert moved.mask[34:62, 40:66].mean() > 0.9  # the square itself is followed
    assert moved.mask[:20].mean() > 0.9  # so is the still background above it


def test_reliable_is_the_forward_backward_check():
    backward = np.zeros((8, 8, 2), np.float32)
    backward[..., 0] = 1.0
    undoing = -backward
    assert reliable(undoing, backward)[:, :-1].all()
    assert not reliable(undoing, backward)[:, -1].any()  # leads beyond the right edge
    assert not reliable(np.zeros_like(backward), backward).any()  # the forward flow says nothing moved


def test_warp_keeps_shape_and_channels():
    grey = np.arange(16, dtype=np.float32).reshape(4, 4, 1)
    assert warp(grey, np.zeros((4, 4, 2), np.float32)).shape == (4, 4, 1)
    assert np.array_equal(warp(grey, np.zeros((4, 4, 2), np.float32)), grey)


def test_a_carried_start_adds_the_previous_dreams_change_where_it_moved_in_the_sources_colours():
    picture = texture()
    previous, current = crop(picture, 0, 0), crop(picture, 3, 2)
    previous_dream = np.clip(previous + 0.2 * np.sin(np.arange(SIZE) / 2)[None, :, None], 0, 1).astype(np.float32)
    start, mask = carried_start(current, previous, previous_dream)

    def moved(frame: np.ndarray) -> np.ndarray:  # where the previous frame's pixels are in this one
        return crop(np.pad(frame, ((20, 20), (20, 20), (0, 0))), 3, 2)

    expected = np.clip(current + CARRY * (moved(previous_dream) - moved(previous)), 0, 1)
    inner = mask[10:-10, 10:-10]
    assert inner.mean() > 0.95
    lightness = rgb_to_lab(start)[10:-10, 10:-10, 0]
    assert np.abs(lightness - rgb_to_lab(expected)[10:-10, 10:-10, 0])[inner].mean() < 1.0
    assert np.abs(lightness - rgb_to_lab(current)[10:-10, 10:-10, 0])[inner].mean() > 5.0  # the change is there
    chroma_error = np.abs(rgb_to_lab(start)[..., 1:] - rgb_to_lab(current)[..., 1:])[mask]
    assert np.median(chroma_error) < 1.0  # a*, b* are the source's (bar what sRGB's gamut clips)
    assert start.dtype == np.float32


def test_where_the_flow_is_unreliable_a_frame_starts_from_its_own_source():
    picture = texture()
    previous, current = crop(picture, 0, 0), crop(picture, 8, 0)
    start, mask = carried_start(current, previous, np.ones_like(previous))
    assert not mask[:, -6:].any()
    assert np.abs(start[:, -6:] - current[:, -6:]).max() < 0.02  # colours kept: a round trip through CIELAB


def test_a_carried_start_needs_frames_of_one_size():
    frame = np.zeros((8, 8, 3), np.float32)
    with pytest.raises(BadRequest, match=r"previous frame's source \(8x8\) and dream \(9x8\) must be the size"):
        carried_start(frame, frame, np.zeros((8, 9, 3), np.float32))
