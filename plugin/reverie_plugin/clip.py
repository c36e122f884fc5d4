"""Deep Dream Frames' pure parts: which layer is which frame, each frame's share of the progress bar, and how
long it shows (as GIMP's animation playback and GIF/WebP export read it from the layer's name)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, TypeVar

from reverie_plugin.layer_names import FRAME_MS

if TYPE_CHECKING:
    from reverie_plugin.session import ProgressSink

Layer = TypeVar("Layer")
_MS = re.compile(r"\((\d{1,6})\s*ms\)")


def frame_order(layers: Sequence[Layer]) -> list[Layer]:
    """An image's layers (top first, as GIMP lists them) in frame order: GIMP opens an animation with its first
    frame at the bottom."""
    return list(reversed(layers))


def frame_ms(layer_name: str) -> int:
    """How long a frame shows: the "(80ms)" in its layer's name, else the default."""
    found = _MS.search(layer_name)
    return int(found.group(1)) if found and int(found.group(1)) > 0 else FRAME_MS


class FrameProgress:
    """A ``session.ProgressSink`` for one frame of ``count``: the frame's progress is its share of the bar,
    and the text says which frame it is."""

    def __init__(self, sink: ProgressSink, index: int, count: int) -> None:
        self._sink = sink
        self._index = index
        self._count = count

    def text(self, text: str) -> None:
        self._sink.text(f"Frame {self._index} of {self._count}: {text}")

    def fraction(self, value: float) -> None:
        self._sink.fraction((self._index - 1 + value) / self._count)

    def pulse(self) -> None:
        self._sink.pulse()
