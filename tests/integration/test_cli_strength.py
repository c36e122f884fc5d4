"""``reverie dream --strength``: a painted map, here and through a running server."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from server_harness import start_server

from reverie.cli.main import main
from reverie.imaging.images import read_image

FAST = ["--weights", "random", "--model", "mobilenet", "--octaves", "2", "--steps", "3", "--seed", "5"]


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    from skimage import data

    path = tmp_path / "in.png"
    Image.fromarray(data.astronaut()[::2, ::2][:200, :240]).save(path)
    return path


@pytest.fixture
def halves(tmp_path: Path) -> Path:
    """A colour map, read as its luminance: black on the left, white on the right, in a size of its own."""
    pixels = np.zeros((50, 64, 3), np.uint8)
    pixels[:, 32:] = 255
    path = tmp_path / "strength.png"
    Image.fromarray(pixels).save(path)
    return path


def test_the_map_keeps_the_black_half_here_and_on_a_server_alike(photo: Path, halves: Path, tmp_path: Path) -> None:
    painted = ["--strength", str(halves)]
    assert main(["dream", str(photo), "-o", str(tmp_path / "here.png"), "--local", *FAST, *painted]) == 0
    server = start_server(tmp_path / "home")
    try:
        on_server = [*FAST, "--server", server.endpoint, *painted]
        assert main(["dream", str(photo), "-o", str(tmp_path / "server.png"), *on_server]) == 0
    finally:
        assert server.stop() == 0
    source = read_image(photo).pixels.astype(int)
    here, there = (read_image(tmp_path / f"{name}.png").pixels.astype(int) for name in ("here", "server"))
    np.testing.assert_array_equal(here, there)
    change = np.abs(here - source)
    assert change[:, :100].max() <= 1  # the black half, away from the map's edge at 120
    assert change[:, 140:].mean() > 1


def test_a_bad_map_is_one_clear_line_and_no_file(photo: Path, tmp_path: Path, capsys) -> None:
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a picture")
    out = tmp_path / "out.png"
    for path in (broken, tmp_path / "missing.png"):
        assert main(["dream", str(photo), "-o", str(out), "--local", *FAST, "--strength", str(path)]) == 1
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and str(path) in err[0], err
    assert not out.exists()
