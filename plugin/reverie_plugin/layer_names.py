"""The dream layer's name carries its seed, where artists look for it: "Deep Dream #701028867".

GIMP makes a taken layer name unique by counting up a trailing "#<number>", which here is the seed: a
second "Deep Dream #12" would become "Deep Dream #13" and report a seed that was never used. So a taken
name gets " (2)", " (3)"… after the seed instead.
"""

from __future__ import annotations

from collections.abc import Callable

RESULT_NAME = "Deep Dream"
PREVIEW_NAME = "Deep Dream preview"


def dream_layer_name(seed: int, preview: bool, taken: Callable[[str], bool]) -> str:
    """The new layer's name: its kind and seed, made unique without touching the seed."""
    name = f"{PREVIEW_NAME if preview else RESULT_NAME} #{seed}"
    count = 1
    candidate = name
    while taken(candidate):
        count += 1
        candidate = f"{name} ({count})"
    return candidate


# How long each frame of a zoom shows: GIMP's animation playback and GIF export read it from the layer name.
FRAME_MS = 100


def frame_layer_name(index: int, ms: int = FRAME_MS) -> str:
    """A frame's layer name, "Frame 3 (100ms)", as GIMP's playback and GIF/WebP export read it."""
    return f"Frame {index} ({ms}ms)"
