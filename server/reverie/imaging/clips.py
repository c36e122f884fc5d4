"""A clip's frames from a folder of images, an animated GIF or WebP (Pillow), or a video file (PyAV, the
``video`` extra, whose wheels carry FFmpeg): read one at a time, so a long clip is never held whole."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import numpy as np
from PIL import Image, ImageSequence, UnidentifiedImageError

from reverie.imaging.images import FORMATS, read_image
from reverie_wire.errors import BadRequest

VIDEOS = (".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".mpg", ".mpeg", ".ogv")
ANIMATED = (".gif", ".webp")
# How long each frame shows when the source does not say (10 frames a second).
DEFAULT_FRAME_MS = 100


@dataclass(frozen=True)
class Clip:
    """Where a clip's frames come from, how many there are (None: a video tells only as it is read), and how
    long each shows."""

    path: Path
    count: int | None
    frame_ms: int

    def frames(self) -> Iterator[np.ndarray]:
        """Each frame as H×W×C pixels (as ``read_image`` gives them), in order."""
        if self.path.is_dir():
            for file in _folder_files(self.path):
                yield read_image(file).pixels
        elif self.path.suffix.lower() in VIDEOS:
            yield from _video_frames(self.path)
        else:
            with Image.open(self.path) as animation:
                for frame in ImageSequence.Iterator(animation):
                    mode = "RGBA" if "A" in frame.mode or "transparency" in frame.info else "RGB"
                    yield np.asarray(frame.convert(mode), np.uint8)


def _natural(path: Path) -> list[object]:
    """Sort key: frame_2 before frame_10."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", path.name)]


def _folder_files(folder: Path) -> list[Path]:
    files = [file for file in folder.iterdir() if file.is_file() and file.suffix.lower() in FORMATS]
    return sorted(files, key=_natural)


def open_clip(path: str | os.PathLike[str]) -> Clip:
    """A clip to read: a folder of PNG, JPEG, TIFF or WebP frames (in natural order of their names), an
    animated GIF or WebP, or a video file; a clear BadRequest for anything else."""
    path = Path(path)
    if path.is_dir():
        files = _folder_files(path)
        if not files:
            raise BadRequest(f"{path} holds no PNG, JPEG, TIFF or WebP frames")
        return Clip(path, len(files), DEFAULT_FRAME_MS)
    if not path.is_file():
        raise BadRequest(f"{path} does not exist: name a folder of frames, an animated GIF or WebP, or a video")
    if path.suffix.lower() in VIDEOS:
        return _open_video(path)
    try:
        with Image.open(path) as animation:
            count = getattr(animation, "n_frames", 1)
            frame_ms = int(animation.info.get("duration") or DEFAULT_FRAME_MS)
    except (UnidentifiedImageError, OSError) as error:
        raise BadRequest(f"cannot read {path}: not an image or video this reader knows ({error})") from error
    return Clip(path, count, frame_ms)


def _av() -> ModuleType:
    try:
        import av
    except ImportError:
        raise BadRequest(
            "reading video needs PyAV: pip install 'reverie[video]' (its wheels carry FFmpeg), or give a folder "
            "of frames or an animated GIF or WebP"
        ) from None
    return av


def _open_video(path: Path) -> Clip:
    av = _av()
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            rate = stream.average_rate or stream.guessed_rate
            frame_ms = round(1000 / float(rate)) if rate else DEFAULT_FRAME_MS
            count = stream.frames or None
    except (av.error.FFmpegError, IndexError) as error:
        raise BadRequest(f"cannot read {path}: no video stream FFmpeg can decode ({error})") from error
    return Clip(path, count, frame_ms)


def _video_frames(path: Path) -> Iterator[np.ndarray]:
    av = _av()
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            yield frame.to_ndarray(format="rgb24")
