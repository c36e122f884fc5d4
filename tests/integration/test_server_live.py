"""Live dreaming against a real server: snapshots of the forming image, and a stop that keeps it."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from server_harness import ENDLESS, Server, image, layout, start_server

from reverie_wire.client import Progress, Result, Snapshot
from reverie_wire.snapshots import SnapshotRequest

# Two octaves of a few steps: each octave ends with a snapshot, whatever the interval.
SHORT = {"model": "mobilenet", "octaves": 2, "steps": 3, "jitter": 8, "seed": 5, "step_size": 0.2, "max_loss": None}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = start_server(tmp_path_factory.mktemp("live"))
    yield server
    assert server.stop() == 0


def smooth(width: int, height: int) -> np.ndarray:
    """An RGBA picture without pixel-level noise, so that shrinking it two ways gives nearly the same."""
    y, x = np.mgrid[0:height, 0:width]
    rgb = np.stack([128 + 100 * np.sin(x / 17.0), 128 + 100 * np.cos(y / 13.0), 128 + 60 * np.sin((x + y) / 29.0)], -1)
    return np.dstack([rgb, np.full((height, width), 255)]).astype(np.uint8)


def events_of(server: Server, pixels: np.ndarray, params: dict, snapshots: SnapshotRequest | None) -> list:
    with server.client() as client:
        job = client.submit(pixels.tobytes(), params=params, snapshots=snapshots, **layout(pixels))
        return list(client.events(job))


def stopped_at_step(server: Server, pixels: np.ndarray, params: dict, step: int) -> Result:
    """The Result of a job stopped (keeping its image) once its progress reached ``step``."""
    with server.client() as client:
        job = client.submit(pixels.tobytes(), params=params, **layout(pixels))
        for event in client.events(job):
            if isinstance(event, Progress) and event.step >= step:
                client.stop(job)
            if isinstance(event, Result):
                return event
    raise AssertionError("the stopped job ended without a Result")


def test_snapshots_come_at_each_octaves_end_at_most_max_side_in_the_sources_aspect(server: Server) -> None:
    events = events_of(server, smooth(240, 160), SHORT, SnapshotRequest(every_ms=60_000, max_side=96))
    shots = [event for event in events if isinstance(event, Snapshot)]
    # every_ms is a minute: the first step's snapshot, then only the octaves' ends.
    assert [(s.octave, s.step, s.octave_done) for s in shots] == [(1, 1, False), (1, 3, True), (2, 3, True)]
    assert all((s.width, s.height) == (96, 64) and len(s.pixels) == 96 * 64 * 3 for s in shots)
    assert isinstance(events[-1], Result) and events[-1].partial is None


def test_the_last_snapshot_at_full_size_is_the_result(server: Server) -> None:
    pixels = smooth(240, 160)
    events = events_of(server, pixels, SHORT, SnapshotRequest(every_ms=50, max_side=240))
    last, result = [event for event in events if isinstance(event, Snapshot)][-1], events[-1]
    shown = np.frombuffer(last.pixels, np.uint8).reshape(160, 240, 3).astype(int)
    dreamed = np.frombuffer(result.pixels, np.uint8).reshape(pixels.shape)[:, :, :3].astype(int)
    assert np.abs(shown - dreamed).max() <= 1
    assert np.abs(shown - pixels[:, :, :3]).mean() > 5  # and it is a dream, not the source


def test_a_job_that_does_not_ask_gets_no_snapshots(server: Server) -> None:
    events = events_of(server, image(120, 100, 3, "u8"), SHORT, None)
    assert not [event for event in events if isinstance(event, Snapshot)]
    assert any(isinstance(event, Progress) for event in events) and isinstance(events[-1], Result)


def test_stop_keeps_the_image_as_formed_marked_partial(server: Server) -> None:
    pixels = image(200, 150, 4, "u8", seed=3)
    result = stopped_at_step(server, pixels, {**ENDLESS, "seed": 9}, 3)
    assert result.partial is not None and 3 <= result.partial["step"] < 1000, result.partial
    assert result.partial["octave"] == 1 and result.seed == 9
    kept = np.frombuffer(result.pixels, np.uint8).reshape(pixels.shape)
    assert (kept[:, :, 3] == pixels[:, :, 3]).all()  # alpha passes through
    assert np.abs(kept[:, :, :3].astype(int) - pixels[:, :, :3]).mean() > 1.0  # the dream had begun
    facts = server.facts()
    assert facts["running"] is None and facts["queue"] == 0


def test_a_plain_cancel_still_cancels(server: Server) -> None:
    pixels = image(120, 100, 3, "u8")
    with server.client() as client:
        job = client.submit(pixels.tobytes(), params=ENDLESS, **layout(pixels))
        next(client.events(job))
        client.cancel(job)
        *_, last = client.events(job)
    assert type(last).__name__ == "Cancelled"


def test_a_stop_in_an_early_octave_keeps_the_sources_own_detail(server: Server) -> None:
    # The first of three octaves dreams a smaller image; what is kept is its change added to the full-size
    # source, not the small image blown up (which would blur this noise to its mean, about 64 levels off).
    pixels = image(300, 240, 3, "u8", seed=4)
    result = stopped_at_step(server, pixels, {**ENDLESS, "octaves": 3}, 2)
    assert result.partial is not None and result.partial["octave"] == 1 and result.partial["octaves"] == 3
    kept = np.frombuffer(result.pixels, np.uint8).reshape(pixels.shape).astype(int)
    assert np.abs(kept - pixels).mean() < 16
