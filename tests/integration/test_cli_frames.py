"""``reverie frames`` as a user runs it: a folder of frames, an animated GIF or a video dreamed into numbered
frames and an animated WebP, here or on a running server (each frame one job)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from server_harness import free_endpoint, start_server

from reverie.cli.main import main
from reverie.imaging.images import read_image

REPO = Path(__file__).resolve().parents[2]
ASTRONAUT = REPO / "samples" / "astronaut.jpg"
MODEL = ["--weights", "random", "--model", "mobilenet", "--octaves", "2", "--steps", "2", "--seed", "5"]
FAST = ["--local", *MODEL]
SIZE = 96


def clip(count: int) -> list[Image.Image]:
    """A window moving right and down over the sample photo."""
    photo = Image.open(ASTRONAUT).convert("RGB")
    return [photo.resize((SIZE, SIZE), box=(100 + 4 * i, 60 + 3 * i, 300 + 4 * i, 260 + 3 * i)) for i in range(count)]


def folder_of_frames(folder: Path, count: int) -> Path:
    folder.mkdir()
    for index, frame in enumerate(clip(count)):
        frame.save(folder / f"in_{index + 1}.png")  # in_10 after in_9: natural order
    return folder


def dreamed(folder: Path) -> list[np.ndarray]:
    return [read_image(path).pixels.astype(np.int16) for path in sorted(folder.glob("frame_*.png"))]


def animation_frames(path: Path) -> tuple[int, int]:
    with Image.open(path) as animation:
        animation.load()  # Pillow reads a WebP frame's duration with its pixels
        return animation.n_frames, animation.info["duration"]


def test_a_folder_of_frames_becomes_numbered_frames_and_a_webp(tmp_path: Path) -> None:
    source = folder_of_frames(tmp_path / "in", 3)
    out, alone = tmp_path / "out", tmp_path / "alone"
    assert main(["frames", str(source), "-o", str(out), *FAST]) == 0
    assert sorted(path.name for path in out.iterdir()) == [
        "animation.webp",
        *(f"frame_{i:04d}.png" for i in (1, 2, 3)),
    ]
    assert animation_frames(out / "animation.webp") == (3, 100)
    assert main(["frames", str(source), "-o", str(alone), "--alone", *FAST]) == 0
    carried, lone = dreamed(out), dreamed(alone)
    assert np.array_equal(carried[0], lone[0])  # the first frame is dreamed alone either way
    assert not np.array_equal(carried[2], lone[2])  # later ones start from the carried dream
    sources = [np.asarray(frame, np.int16) for frame in clip(3)]
    assert all(np.abs(frame - source).mean() > 0.5 for frame, source in zip(carried, sources, strict=True))


def test_an_animated_gif_keeps_its_timing_and_goes_through_a_server(tmp_path: Path) -> None:
    gif = tmp_path / "clip.gif"
    frames = clip(3)
    frames[0].save(gif, save_all=True, append_images=frames[1:], duration=80, loop=0)
    server = start_server(tmp_path / "home", endpoint=free_endpoint())
    try:
        out = tmp_path / "out"
        assert main(["frames", str(gif), "-o", str(out), "--server", server.endpoint, *MODEL]) == 0
        assert animation_frames(out / "animation.webp") == (3, 80)
        assert len(dreamed(out)) == 3
        assert server.log.read_text().count("queued") == 3  # each frame is one job
    finally:
        assert server.stop() == 0


def test_a_video_through_pyav(tmp_path: Path) -> None:
    av = pytest.importorskip("av")
    video = tmp_path / "clip.mp4"
    with av.open(str(video), "w") as container:
        stream = container.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = SIZE, SIZE, "yuv420p"
        for frame in clip(3):
            container.mux(stream.encode(av.VideoFrame.from_ndarray(np.asarray(frame), format="rgb24")))
        container.mux(stream.encode())
    out = tmp_path / "out"
    assert main(["frames", str(video), "-o", str(out), "--animation", str(tmp_path / "v.gif"), *FAST]) == 0
    assert len(dreamed(out)) == 3
    assert animation_frames(tmp_path / "v.gif") == (3, 100)


@pytest.mark.parametrize(
    ("make", "options", "words"),
    [
        ("empty", [], "holds no PNG, JPEG, TIFF or WebP frames"),
        ("sizes", [], "frame 2 of .* is 80x96 with 3 channels, but the frames before it are 96x96"),
        ("frames", ["--frame-steps", "0"], "steps must be between"),
        ("frames", ["--animation", "a.png"], "name a .webp or .gif file"),
        ("text", [], "not an image or video this reader knows"),
    ],
)
def test_bad_clips_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], make: str, options: list[str], words: str
) -> None:
    source = tmp_path / "in"
    if make == "empty":
        source.mkdir()
    elif make == "sizes":
        folder_of_frames(source, 2)
        Image.open(source / "in_2.png").crop((0, 0, 80, SIZE)).save(source / "in_2.png")
    elif make == "frames":
        folder_of_frames(source, 2)
    else:
        source = tmp_path / "clip.gif"
        source.write_text("not a gif")
    options = [str(tmp_path / option) if option.endswith(".png") else option for option in options]
    assert main(["frames", str(source), "-o", str(tmp_path / "out"), *options, *FAST]) == 1
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.startswith("reverie: error:")
    assert re.search(words, error), error
