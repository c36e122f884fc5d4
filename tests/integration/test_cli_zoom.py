"""``reverie zoom`` as a user runs it: an animated WebP or GIF of frames zooming into a dream."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from reverie.cli.main import main
from reverie.imaging.images import read_image

REPO = Path(__file__).resolve().parents[2]
ASTRONAUT = REPO / "samples" / "astronaut.jpg"
FAST = ["--local", "--weights", "random", "--model", "mobilenet", "--octaves", "1", "--steps", "1", "--seed", "5"]


def frames_of(path: Path) -> list[np.ndarray]:
    with Image.open(path) as animation:
        frames = []
        for index in range(animation.n_frames):
            animation.seek(index)
            frames.append(np.asarray(animation.convert("RGB"), np.int16))
        return frames


def test_eight_frames_that_move_and_repeat_with_the_seed(tmp_path: Path) -> None:
    first, again = tmp_path / "z.webp", tmp_path / "again.webp"
    pngs = tmp_path / "frames"
    assert main(["zoom", str(ASTRONAUT), "-o", str(first), "--frames", "8", "--frames-dir", str(pngs), *FAST]) == 0
    frames = frames_of(first)
    assert len(frames) == 8 and frames[0].shape == (512, 512, 3)
    for earlier, later in itertools.pairwise(frames):
        assert np.abs(later - earlier).mean() > 2.0  # each frame zooms in: clearly another picture
    assert sorted(path.name for path in pngs.iterdir()) == [f"frame_{i:04d}.png" for i in range(1, 9)]
    last = read_image(pngs / "frame_0008.png").pixels
    assert np.abs(last - frames[7]).mean() < np.abs(last - frames[6]).mean() / 2  # WebP is lossy: near, not equal
    assert main(["zoom", str(ASTRONAUT), "-o", str(again), "--frames", "8", *FAST]) == 0
    assert again.read_bytes() == first.read_bytes()


def test_a_gif_of_a_grey_picture_turning_as_it_zooms(tmp_path: Path) -> None:
    grey = tmp_path / "grey.png"
    Image.fromarray(np.random.default_rng(2).integers(0, 256, (120, 160), dtype=np.uint8)).save(grey)
    out = tmp_path / "z.gif"
    options = ["--frames", "3", "--rotate", "10", "--frame-steps", "1", "--guide", str(ASTRONAUT), "--keep-colors"]
    assert main(["zoom", str(grey), "-o", str(out), *options, *FAST]) == 0
    frames = frames_of(out)
    assert len(frames) == 3 and frames[0].shape == (120, 160, 3)


@pytest.mark.parametrize(
    ("options", "words"),
    [
        (["-o", "z.png"], "name a .webp or .gif file"),
        (["-o", "z.webp", "--zoom", "0.5"], "--zoom must be between 1 and 4"),
        (["-o", "z.webp", "--frames", "0"], "--frames must be between"),
        (["-o", "z.webp", "--frame-steps", "0"], "steps must be between"),
    ],
)
def test_bad_options_are_one_line_and_no_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], options: list[str], words: str
) -> None:
    options = [str(tmp_path / option) if option.startswith("z.") else option for option in options]
    assert main(["zoom", str(ASTRONAUT), *options, *FAST]) == 1
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.startswith("reverie: error:") and words in error
    assert not list(tmp_path.iterdir())


def test_the_zoom_keeps_the_centre_and_the_sample_type() -> None:
    from reverie.imaging.zoom import zoomed

    pixels = np.zeros((101, 101, 2), np.uint16)
    pixels[45:56, 45:56] = 60000
    bigger = zoomed(pixels, 2.0, 0.0)
    assert bigger.dtype == np.uint16 and bigger.shape == pixels.shape
    assert bigger[50, 50, 0] == 60000 and bigger[40, 40, 0] == 60000 and bigger[30, 30, 0] == 0


def test_a_strength_map_keeps_every_frame_still_where_it_is_black(tmp_path: Path) -> None:
    """The map lies on each frame where it is, not zoomed: its black left half only zooms the source."""
    from reverie.imaging.zoom import zoomed

    source = np.asarray(Image.open(ASTRONAUT).convert("RGB").resize((160, 160)))
    picture, halves, pngs = tmp_path / "in.png", tmp_path / "strength.png", tmp_path / "frames"
    Image.fromarray(source).save(picture)
    painted = np.zeros((40, 40), np.uint8)
    painted[:, 20:] = 255
    Image.fromarray(painted).save(halves)
    options = [
        "--frames",
        "3",
        "--frames-dir",
        str(pngs),
        "--strength",
        str(halves),
        "--steps",
        "4",
        "--step-size",
        "0.05",
    ]
    assert main(["zoom", str(picture), "-o", str(tmp_path / "z.webp"), *options, *FAST[:-4], "--seed", "5"]) == 0
    still = source
    for index in range(1, 4):
        frame = read_image(pngs / f"frame_{index:04d}.png").pixels.astype(int)
        change = np.abs(frame - still.astype(int))
        assert change[:, :60].max() <= 2, index  # only zoomed; bicubic rounding may move a level more
        assert change[:, 100:].mean() > 2, index
        still = zoomed(frame.astype(np.uint8), 1.05, 0.0)
