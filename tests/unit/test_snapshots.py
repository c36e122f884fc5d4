"""The snapshots request's checks, and the images snapshots and stopped jobs are made of."""

from __future__ import annotations

import numpy as np
import pytest

from reverie.engine import Progress
from reverie.serving.live_images import SourceSizes, fitted, formed, kept_image, snapshot_pixels
from reverie_wire.errors import BadRequest
from reverie_wire.snapshots import SnapshotRequest, keep_flag, snapshot_request


def test_a_request_takes_defaults_and_refuses_what_it_cannot_mean() -> None:
    assert snapshot_request(None) is None
    assert snapshot_request({}) == SnapshotRequest(250, 512)
    assert snapshot_request({"every_ms": 100, "max_side": 64}) == SnapshotRequest(100, 64)
    for bad in ([], {"every_ms": 10}, {"max_side": True}, {"max_side": 4096}, {"size": 5}, {"every_ms": 1.5}):
        with pytest.raises(BadRequest):
            snapshot_request(bad)
    assert keep_flag(None) is False and keep_flag(True) is True
    with pytest.raises(BadRequest):
        keep_flag(1)


def test_fitted_keeps_the_aspect_and_never_enlarges() -> None:
    assert fitted(160, 240, 96) == (64, 96)
    assert fitted(100, 50, 512) == (100, 50)


def step_with(image: np.ndarray) -> Progress:
    def view(max_side: int) -> np.ndarray:
        stride = max(1, max(image.shape[:2]) // max_side)
        return image[::stride, ::stride].copy()

    return Progress(1, 2, 3, 20, 0.1, 1, 1.0, view, False)


def test_an_early_octaves_change_lands_on_the_sources_own_detail() -> None:
    rng = np.random.default_rng(0)
    source = rng.random((64, 96, 3), dtype=np.float32)
    sources = SourceSizes(source)
    small = sources.at((32, 48)) + 0.1  # the dream so far: a uniform brightening at the octave's size
    kept = kept_image(sources, step_with(small))
    assert kept.shape == source.shape
    inside = (source > 0.05) & (source < 0.85)  # away from clipping
    assert np.allclose((kept - source)[inside], 0.1, atol=1e-3)


def test_a_job_stopped_before_its_first_step_keeps_the_source() -> None:
    source = np.zeros((8, 8, 3), np.float32)
    assert kept_image(SourceSizes(source), None) is source


def test_snapshot_pixels_are_u8_rgb_at_most_max_side() -> None:
    image = np.full((300, 200, 3), 0.5, np.float32)
    pixels = snapshot_pixels(step_with(image), 100, SourceSizes(image))
    assert pixels.dtype == np.uint8 and pixels.shape == (100, 66, 3) and (pixels == 128).all()
    assert formed(image, SourceSizes(image), (300, 200)) is image


def test_the_engines_image_view_crops_padding_strides_and_maps_to_0_1() -> None:
    from reverie.engine.results import image_view

    padded = np.full((70, 110, 3), -1.0, np.float32)  # a device canvas pads beyond the octave's shape
    padded[:64, :96] = 0.0
    view = image_view(padded, (64, 96))
    assert view(96).shape == (64, 96, 3) and (view(96) == 0.5).all()
    assert view(48).shape == (32, 48, 3)
    padded[:64, :96] = 1.0  # read when called, not when made
    assert (view(96) == 1.0).all()


def test_snapshots_between_octave_ends_stay_within_their_share_of_the_time() -> None:
    from reverie.serving.live_images import LiveJob

    sent: list[bool] = []
    image = np.full((256, 256, 3), 0.5, np.float32)
    live = LiveJob(SnapshotRequest(50, 256), image, lambda fields, _pixels: sent.append(fields["octave_done"]))
    for _ in range(200):  # steps that take no time: every snapshot would be all of the time
        live.offer(step_with(image))
    assert sent == [False]  # the first goes at once; then the budget holds them back
    live.offer(Progress(1, 2, 20, 20, 0.5, 1, 1.0, step_with(image).image, True))
    assert sent == [False, True]  # an octave's end has a share of its own


def test_octave_ends_stay_within_their_own_share_of_the_time() -> None:
    from reverie.serving.live_images import LiveJob

    sent: list[int] = []
    image = np.full((512, 512, 3), 0.5, np.float32)
    live = LiveJob(SnapshotRequest(60_000, 512), image, lambda fields, _pixels: sent.append(fields["octave"]))
    for octave in range(1, 13):  # octaves that take no time: every snapshot would be all of it
        live.offer(Progress(octave, 12, 20, 20, octave / 12, 1, 1.0, step_with(image).image, True))
    assert sent == [1]
