"""The worker's side of live dreaming: snapshots of the forming image, and the image a stopped job keeps.

Both read the engine's lazy ``Progress.image`` view, so a job that asks for nothing pays nothing.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from reverie.engine import Progress
from reverie.engine.octaves import resize
from reverie_wire.snapshots import PROGRESS_FIELDS, SnapshotRequest

# (header fields, u8 RGB pixels) -> sent to the client.
SendFn = Callable[[dict[str, Any], np.ndarray], None]
# The share of a dream's time that snapshots between octave ends may take, and octave ends' snapshots again: on a
# slow or busy machine they come less often than asked rather than slow the dream down.
BUDGET = 0.03


def fitted(height: int, width: int, max_side: int) -> tuple[int, int]:
    """``height``×``width`` scaled to a long side of at most ``max_side``, never up."""
    scale = min(1.0, max_side / max(height, width))
    return max(1, math.floor(height * scale)), max(1, math.floor(width * scale))


class SourceSizes:
    """The job's source image (float RGB in [0, 1]) at the sizes snapshots need, each resized once."""

    def __init__(self, source: np.ndarray) -> None:
        self.source = source
        self._sizes: dict[tuple[int, int], np.ndarray] = {}

    def at(self, shape: tuple[int, int]) -> np.ndarray:
        if shape == self.source.shape[:2]:
            return self.source
        if shape not in self._sizes:
            self._sizes[shape] = resize(self.source, shape)
        return self._sizes[shape]


def formed(view: np.ndarray, sources: SourceSizes, shape: tuple[int, int]) -> np.ndarray:
    """The dream so far at ``shape``: ``view`` (the octave's image) directly when it has that shape, else the
    change it made to the source, resized, added to the source at ``shape``. So an early octave's small image
    shows the dream forming on the source's own detail rather than a blurred source."""
    if view.shape[:2] == shape:
        return view
    change = resize(view - sources.at(view.shape[:2]), shape)
    change += sources.at(shape)
    return np.clip(change, 0.0, 1.0, out=change)


def snapshot_pixels(progress: Progress, max_side: int, sources: SourceSizes) -> np.ndarray:
    """The image as ``progress`` left it, as u8 RGB in the source's aspect, its long side at most ``max_side``."""
    assert progress.image is not None
    height, width = sources.source.shape[:2]
    image = formed(progress.image(max_side), sources, fitted(height, width, max_side))
    image *= 255.0  # a new array either way (the view's, or the resized change): changed in place
    image += 0.5
    return image.astype(np.uint8)


def kept_image(sources: SourceSizes, progress: Progress | None) -> np.ndarray:
    """What a stopped job keeps, float RGB in [0, 1] at the source's size (the source when no step was done)."""
    if progress is None or progress.image is None:
        return sources.source
    return formed(progress.image(2**30), sources, sources.source.shape[:2])  # stride 1: the octave's own pixels


class LiveJob:
    """Follows one job's progress: sends snapshots when asked for them, and remembers the last step."""

    def __init__(self, request: SnapshotRequest | None, source: np.ndarray, send: SendFn) -> None:
        self._request = request
        self.sources = SourceSizes(source)
        self._send = send
        self._last_sent = -math.inf
        self._started = time.monotonic()
        self._spent = 0.0
        self._spent_on_ends = 0.0
        self.last: Progress | None = None

    def offer(self, progress: Progress) -> None:
        """Called for every step: a snapshot goes at an octave's end, and otherwise when ``every_ms`` has passed,
        each kind while its snapshots so far took less than BUDGET of the time."""
        self.last = progress
        request = self._request
        if request is None or progress.image is None:
            return
        now = time.monotonic()
        if progress.octave_done:  # octaves' ends have a share of their own: twelve 2048² ones added 31 %
            if self._spent_on_ends > BUDGET * (now - self._started):
                return
        elif (now - self._last_sent) * 1000 < request.every_ms or self._spent > BUDGET * (now - self._started):
            return
        self._last_sent = now
        self._snapshot(progress, request.max_side)
        if progress.octave_done:
            self._spent_on_ends += time.monotonic() - now
        else:
            self._spent += time.monotonic() - now

    def _snapshot(self, progress: Progress, max_side: int) -> None:
        pixels = snapshot_pixels(progress, max_side, self.sources)
        fields = {name: getattr(progress, name) for name in PROGRESS_FIELDS}
        self._send(
            {**fields, "octave_done": progress.octave_done, "width": pixels.shape[1], "height": pixels.shape[0]}, pixels
        )

    def partial(self) -> dict[str, Any]:
        """How far a stopped job got, for its result's ``partial`` field."""
        last = self.last
        if last is None:
            return {"octave": 0, "octaves": 0, "step": 0, "steps": 0, "fraction": 0.0}
        return {name: getattr(last, name) for name in PROGRESS_FIELDS}
