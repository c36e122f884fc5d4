"""Deep Dream Frames' pure parts: frame order, timing read from layer names, each frame's share of the
progress bar, its params, and a dialog whose mnemonics are each its own."""

from __future__ import annotations

import pytest

from reverie_plugin import arguments
from reverie_plugin.clip import FrameProgress, frame_ms, frame_order


def test_the_bottom_layer_is_the_first_frame() -> None:
    assert frame_order(["top", "middle", "bottom"]) == ["bottom", "middle", "top"]


@pytest.mark.parametrize(
    ("name", "ms"),
    [
        ("Frame 3 (80ms)", 80),
        ("Background (40 ms) (replace)", 40),
        ("Frame 1", 100),
        ("Frame 2 (0ms)", 100),
        ("(ms)", 100),
    ],
)
def test_a_frame_shows_as_long_as_its_layer_name_says(name: str, ms: int) -> None:
    assert frame_ms(name) == ms


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, object]] = []

    def text(self, text: str) -> None:
        self.events.append(("text", text))

    def fraction(self, value: float) -> None:
        self.events.append(("fraction", value))

    def pulse(self) -> None:
        self.events.append(("pulse", None))


def test_each_frame_fills_its_share_of_the_bar_and_says_which_it_is() -> None:
    recorder = Recorder()
    progress = FrameProgress(recorder, 2, 4)
    progress.fraction(0.0)
    progress.fraction(0.5)
    progress.fraction(1.0)
    progress.text("Dreaming: octave 1 of 1")
    progress.pulse()
    assert recorder.events == [
        ("fraction", 0.25),
        ("fraction", 0.375),
        ("fraction", 0.5),
        ("text", "Frame 2 of 4: Dreaming: octave 1 of 1"),
        ("pulse", None),
    ]


def frames_values(**changes: object) -> dict[str, object]:
    values = {a.name: a.default for a in arguments.FRAMES_PROCEDURE_ARGUMENTS}
    return {**values, "layers": "", **changes}


def test_frames_after_the_first_take_their_own_steps_and_octaves_with_one_seed() -> None:
    values = frames_values(steps=10, octaves=3)
    first, later = arguments.clip_params(values, 42, 1), arguments.clip_params(values, 42, 5)
    assert (first["steps"], first["octaves"], first["seed"]) == (10, 3, 42)
    assert (later["steps"], later["octaves"], later["seed"]) == (2, 1, 42)


def test_the_frames_dialog_has_no_preview_or_strength_and_unique_mnemonics() -> None:
    names = [a.name for a in arguments.FRAMES_PROCEDURE_ARGUMENTS]
    assert "preview" not in names and "strength" not in names and "zoom" not in names
    assert names[-2:] == ["frame-steps", "frame-octaves"]
    mnemonics = [a.mnemonic for a in arguments.FRAMES_PROCEDURE_ARGUMENTS]
    assert len(set(mnemonics)) == len(mnemonics)
    assert not set(mnemonics) & arguments.DIALOG_BUTTON_MNEMONICS
