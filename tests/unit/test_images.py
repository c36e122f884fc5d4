"""Image files for the command line: formats, alpha, 16-bit grey, atomic writes."""

import os
import stat
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from reverie.imaging.images import output_format, read_image, write_image
from reverie_wire.errors import BadRequest


def test_16_bit_grey_png_stays_16_bit(tmp_path: Path) -> None:
    grey = (np.arange(40 * 30, dtype=np.uint16) * 50).reshape(30, 40)
    source = tmp_path / "grey16.png"
    Image.fromarray(grey).save(source)
    loaded = read_image(source)
    assert loaded.pixels.dtype == np.uint16 and loaded.pixels.shape == (30, 40, 1)
    np.testing.assert_array_equal(loaded.pixels[:, :, 0], grey)
    target = tmp_path / "out.png"
    write_image(loaded.pixels, target)
    np.testing.assert_array_equal(read_image(target).pixels, loaded.pixels)


@pytest.mark.parametrize("suffix", [".png", ".tif", ".webp"])
def test_alpha_survives_formats_that_hold_it(tmp_path: Path, suffix: str) -> None:
    rgba = np.random.default_rng(3).integers(0, 256, (20, 24, 4), dtype=np.uint8)
    target = tmp_path / f"rgba{suffix}"
    if suffix == ".webp":
        Image.fromarray(rgba).save(target, lossless=True)
    else:
        write_image(rgba, target)
    np.testing.assert_array_equal(read_image(target).pixels[:, :, 3], rgba[:, :, 3])


def test_jpeg_drops_alpha_and_says_so(tmp_path: Path) -> None:
    notes = write_image(np.zeros((8, 8, 4), np.uint8), tmp_path / "x.jpg")
    assert any("no alpha" in note for note in notes)
    assert read_image(tmp_path / "x.jpg").pixels.shape == (8, 8, 3)


def test_16_bit_colour_png_is_flagged(tmp_path: Path) -> None:
    import zlib

    # Hand-made 16-bit RGB PNG: Pillow reads it at 8 bits per channel, and the reader must say so.
    raw = b"".join(b"\x00" + b"\x12\x34" * 3 * 4 for _ in range(3))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")

    header = (4).to_bytes(4, "big") + (3).to_bytes(4, "big") + bytes([16, 2, 0, 0, 0])
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    (tmp_path / "rgb16.png").write_bytes(png)
    loaded = read_image(tmp_path / "rgb16.png")
    assert any("8 bits per channel" in note for note in loaded.notes)


def test_unreadable_files_are_named(tmp_path: Path) -> None:
    (tmp_path / "text.png").write_text("not an image")
    with pytest.raises(BadRequest, match=r"cannot read .*text\.png"):
        read_image(tmp_path / "text.png")
    with pytest.raises(BadRequest, match="does not exist"):
        read_image(tmp_path / "missing.png")


def test_unknown_output_type_is_refused_before_work(tmp_path: Path) -> None:
    with pytest.raises(BadRequest, match=r"use a \.png"):
        output_format(tmp_path / "out.gif")
    with pytest.raises(BadRequest, match="does not exist"):
        output_format(tmp_path / "no" / "out.png")


def test_failed_write_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def disk_full(image: Image.Image, file: object, format: str) -> None:
        file.write(b"half a picture")  # type: ignore[attr-defined]
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Image.Image, "save", disk_full)
    with pytest.raises(OSError, match="No space"):
        write_image(np.zeros((4, 4, 3), np.uint8), tmp_path / "out.png")
    assert list(tmp_path.iterdir()) == []


def test_an_output_path_that_cannot_be_written_is_refused_before_work(tmp_path: Path) -> None:
    (tmp_path / "folder.png").mkdir()
    (tmp_path / "file").write_text("")
    with pytest.raises(BadRequest, match=r"it is a folder; name a file in it"):
        output_format(tmp_path / "folder.png")
    with pytest.raises(BadRequest, match=r"file is not a folder"):
        output_format(tmp_path / "file" / "out.png")


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write in any folder")
def test_an_output_folder_this_user_may_not_write_in_is_refused(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    with pytest.raises(BadRequest, match="may not write in the folder"):
        output_format(locked / "out.png")


@pytest.mark.parametrize("umask", [0o022, 0o027])
def test_written_files_get_the_umasks_mode(tmp_path: Path, umask: int) -> None:
    previous = os.umask(umask)
    try:
        write_image(np.zeros((4, 4, 3), np.uint8), tmp_path / "out.png")
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "out.png").stat().st_mode) == 0o666 & ~umask


def test_a_decompression_bomb_is_a_clear_error(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.png"
    Image.new("1", (20_000, 10_000)).save(bomb)  # 200 megapixels in a few kilobytes
    with pytest.raises(BadRequest, match=r"bomb\.png: it has more than the \d+ megapixels .* decompression bomb"):
        read_image(bomb)
