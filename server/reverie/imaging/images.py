"""Reading and writing image files for the command line, keeping alpha and 16-bit grey."""

from __future__ import annotations

import os
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from reverie.imaging.pixels import strength_map
from reverie_wire.errors import BadRequest, ReverieError

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
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as opened:
                image = ImageOps.exif_transpose(opened)
                image.load()
                pixels, notes = _as_array(image, path)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise BadRequest(
            f"cannot read {path}: it has more than the {(Image.MAX_IMAGE_PIXELS or 0) / 1e6:.0f} megapixels Pillow "
            "opens without suspecting a decompression bomb; scale it down first"
        ) from None
    except (UnidentifiedImageError, OSError, SyntaxError) as error:
        raise BadRequest(
            f"cannot read {path}: not a PNG, JPEG, TIFF or WebP image Pillow can open ({error})"
        ) from error
    return LoadedImage(np.ascontiguousarray(pixels), tuple(notes))


def read_strength(path: str | os.PathLike[str]) -> np.ndarray:
    """A strength map (H×W float32 in [0, 1]) from an image file: grey as it is, colour as its luminance."""
    pixels = read_image(path).pixels
    try:
        return strength_map(pixels)
    except BadRequest as error:
        raise BadRequest(f"{path}: {error}") from None


def output_format(path: str | os.PathLike[str]) -> str:
    """The Pillow format for an output path, checked before any work is done: not a folder, a file type this
    Pillow writes, in a folder that exists and that this user may write in."""
    path = Path(path)
    if path.is_dir():
        raise BadRequest(f"cannot write {path}: it is a folder; name a file in it, e.g. {path / 'dream.png'}")
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise BadRequest(f"cannot write {path.name}: use a .png, .jpg, .tif or .webp file name")
    Image.init()
    if fmt not in Image.SAVE:
        raise BadRequest(f"cannot write {path.name}: this Pillow was built without {fmt} support; use .png")
    folder = path.parent
    if not folder.is_dir():
        kind = "is not a folder" if folder.exists() else "does not exist"
        raise BadRequest(f"cannot write {path}: {folder} {kind}")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise BadRequest(f"cannot write {path}: this user may not write in the folder {folder.resolve()}")
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


def _new_file_mode() -> int:
    """The mode ``open`` gives a new file: 0o666 less the umask (mkstemp's own 0o600 is meant for secrets)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def write_image(pixels: np.ndarray, path: str | os.PathLike[str]) -> tuple[str, ...]:
    """Write atomically (temporary file, then rename): a failure never leaves a partial file."""
    path = Path(path)
    fmt = output_format(path)
    image, notes = _to_pillow(pixels, fmt)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent.resolve())
    try:
        os.fchmod(handle, _new_file_mode())
        with os.fdopen(handle, "wb") as file:
            image.save(file, format=fmt)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
    return tuple(notes)


def _reason(error: Exception) -> str:
    return error.strerror if isinstance(error, OSError) and error.strerror else str(error)


def rescue_image(pixels: np.ndarray, path: str | os.PathLike[str], seed: int, error: Exception) -> ReverieError:
    """The error for a finished dream that ``path`` refused (``error``), once it is safe: written as PNG
    beside ``path``, else in the temporary folder. The error says where, or that nowhere took it."""
    path = Path(path)
    tried = []
    for folder in (path.parent, Path(tempfile.gettempdir())):
        try:
            handle, name = tempfile.mkstemp(prefix=f"{path.stem}-seed{seed}-", suffix=".png", dir=folder)
        except OSError as failure:
            tried.append(f"{folder}: {_reason(failure)}")
            continue
        os.close(handle)
        try:
            write_image(pixels, name)
        except (OSError, ValueError, ReverieError) as failure:
            os.unlink(name)
            tried.append(f"{folder}: {_reason(failure)}")
            continue
        return ReverieError(f"cannot write {path} ({_reason(error)}); the dream was saved to {name} instead")
    return ReverieError(f"cannot write {path} ({_reason(error)}) nor a copy ({'; '.join(tried)}); the dream is lost")
