"""Reading and writing image files for the command line, keeping alpha and 16-bit grey."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from reverie.errors import BadRequest

FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".tif": "TIFF", ".tiff": "TIFF", ".webp": "WEBP"}
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class LoadedImage:
    """Pixels as H×W×C (C = 1..4) uint8, uint16 or float32, and what the reader had to change."""

    pixels: np.ndarray
    notes: tuple[str, ...]


def _png_bit_depth(path: Path) -> int | None:
    with path.open("rb") as file:
        head = file.read(25)
    if head[:8] != _PNG_SIGNATURE or len(head) < 25:
        return None
    return head[24]


def _as_array(image: Image.Image, path: Path) -> tuple[np.ndarray, list[str]]:
    notes: list[str] = []
    mode = image.mode
    if mode in ("I;16", "I;16B", "I;16L"):
        return np.asarray(image, dtype=np.uint16)[:, :, None], notes
    if mode == "I":
        data = np.asarray(image)
        if data.min() >= 0 and data.max() <= 65535:
            return data.astype(np.uint16)[:, :, None], notes
        raise BadRequest(f"{path}: 32-bit integer images are not supported; save it as 16-bit or float")
    if mode == "F":
        return np.asarray(image, dtype=np.float32)[:, :, None], notes
    if mode in ("L", "LA", "RGB", "RGBA"):
        if mode in ("RGB", "RGBA") and _png_bit_depth(path) == 16:
            notes.append(f"{path.name} is a 16-bit colour PNG, which Pillow reads at 8 bits per channel")
        data = np.asarray(image, dtype=np.uint8)
        return (data[:, :, None] if data.ndim == 2 else data), notes
    has_alpha = "A" in mode or "transparency" in image.info
    converted = image.convert("RGBA" if has_alpha else "RGB")
    notes.append(f"{path.name} was converted from {mode} to {converted.mode}")
    return np.asarray(converted, dtype=np.uint8), notes


def read_image(path: str | os.PathLike[str]) -> LoadedImage:
    """Load PNG, JPEG, TIFF or WebP; a clear BadRequest for anything else."""
    path = Path(path)
    if not path.is_file():
        raise BadRequest(f"{path} does not exist or is not a file")
    try:
        with Image.open(path) as image:
            image = ImageOps.exif_transpose(image)
            image.load()
            pixels, notes = _as_array(image, path)
    except (UnidentifiedImageError, OSError, SyntaxError) as error:
        raise BadRequest(
            f"cannot read {path}: not a PNG, JPEG, TIFF or WebP image Pillow can open ({error})"
        ) from error
    return LoadedImage(np.ascontiguousarray(pixels), tuple(notes))


def output_format(path: str | os.PathLike[str]) -> str:
    """The Pillow format for an output path, checked before any work is done."""
    path = Path(path)
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise BadRequest(f"cannot write {path.name}: use a .png, .jpg, .tif or .webp file name")
    if not path.parent.resolve().is_dir():
        raise BadRequest(f"cannot write {path}: folder {path.parent} does not exist")
    return fmt


def _to_pillow(pixels: np.ndarray, fmt: str) -> tuple[Image.Image, list[str]]:
    notes: list[str] = []
    channels = pixels.shape[2]
    if pixels.dtype == np.uint16 and channels == 1 and fmt in ("PNG", "TIFF"):
        return Image.fromarray(pixels[:, :, 0]), notes  # uint16 → mode I;16
    if pixels.dtype == np.float32 and channels == 1 and fmt == "TIFF":
        return Image.fromarray(pixels[:, :, 0]), notes  # float32 → mode F
    if pixels.dtype != np.uint8:
        scale = 255.0 / 65535.0 if pixels.dtype == np.uint16 else 255.0
        pixels = np.rint(np.clip(pixels.astype(np.float32) * scale, 0, 255)).astype(np.uint8)
        notes.append(f"{fmt} stores 8 bits per channel here: the result was written at 8 bits")
    if fmt == "JPEG" and channels in (2, 4):
        pixels = pixels[:, :, : channels - 1]
        notes.append("JPEG has no alpha channel: it was left out; write .png to keep it")
    image = Image.fromarray(pixels[:, :, 0] if pixels.shape[2] == 1 else pixels)
    return image, notes


def write_image(pixels: np.ndarray, path: str | os.PathLike[str]) -> tuple[str, ...]:
    """Write atomically (temporary file, then rename): a failure never leaves a partial file."""
    path = Path(path)
    fmt = output_format(path)
    image, notes = _to_pillow(pixels, fmt)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent.resolve())
    try:
        with os.fdopen(handle, "wb") as file:
            image.save(file, format=fmt)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
    return tuple(notes)
