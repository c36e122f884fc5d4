"""The worker's side of live dreaming: snapshots of the forming image, and the image a stopped job keeps.

Both read the engine's lazy ``Progress.image`` view, so a job that asks for nothing pays nothing.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from PIL import Image

from reverie.engine import Progress
from reverie.engine.octaves import resize
from reverie.snapshots import PROGRESS_FIELDS, SnapshotRequest

# (header fields, u8 RGB pixels) -> sent to the client.
SendFn = Callable[[dict[str, Any], np.ndarray], None]


def fitted(height: int, width: int, max_side: int) -> tuple[int, int]:
    """``height``×``width`` scaled to a long side of at most ``max_side``, never up."""
    scale = min(1.0, max_side / max(height, width))
    return max(1, math.floor(height * scale)), max(1, math.floor(width * scale))


def snapshot_pixels(progress: Progress, max_side: int, source_shape: tuple[int, int]) -> np.ndarray:
    """The image as ``progress`` left it, as u8 RGB in the source's aspect, its long side at most ``max_side``."""
    assert progress.image is not None
    view = progress.image(max_side)
    pixels = np.empty(view.shape, np.uint8)
    np.multiply(view, 255.0, out=view)
    np.rint(view, out=view)
    pixels[...] = view
    height, width = fitted(*source_shape, max_side)
    if pixels.shape[:2] != (height, width):
        pixels = np.asarray(Image.fromarray(pixels).resize((width, height), Image.Resampling.BILINEAR))
    return pixels


def kept_image(source: np.ndarray, progress: Progress | None) -> np.ndarray:
    """What a stopped job keeps, float RGB in [0, 1] at the source's size: the change the dream has made so
    far, brought to the source's size and added to it, so an early octave's small image keeps the source's
    own detail; the source itself when no step was done."""
    if progress is None or progress.image is None:
        return source
    height, width = source.shape[:2]
    current = progress.image(2**30)  # stride 1: the octave's own pixels
    if current.shape[:2] == (height, width):
        return current
    change = resize(current - resize(source, current.shape[:2]), (height, width))
    return np.clip(source + change, 0.0, 1.0)


class LiveJob:
    """Follows one job's progress: sends snapshots when asked for them, and remembers the last step."""

    def __init__(self, request: SnapshotRequest | None, source_shape: tuple[int, int], send: SendFn) -> None:
        self._request = request
        self._source_shape = source_shape
        self._send = send
        self._last_sent = -math.inf
        self.last: Progress | None = None

    def offer(self, progress: Progress) -> None:
        """Called for every step: a snapshot goes when one is due, and always at an octave's end."""
        self.last = progress
        request = self._request
        if request is None or progress.image is None:
            return
        now = time.monotonic()
        if not progress.octave_done and (now - self._last_sent) * 1000 < request.every_ms:
            return
        self._last_sent = now
        pixels = snapshot_pixels(progress, request.max_side, self._source_shape)
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
