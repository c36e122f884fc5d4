"""The atlas's tiles kept in the user's cache: a channel once dreamed is read back, not dreamed again.

Tiles live in ``user_cache_dir("reverie")/atlas/<model>-<layer>-<key>/<channel>.png``; the key is a hash of
the model, the weights' identity (the keyword, or a weights file's contents: the same file by any path shares
tiles, an edited one does not) and every setting that shapes a tile.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import platformdirs
from PIL import Image

from reverie.atlas.render import AtlasSettings
from reverie.engine.weights import IMAGENET, RANDOM
from reverie_wire.errors import WeightsMissing

# Raised whenever the way a tile is dreamed changes, so tiles dreamed the old way are not shown as new ones.
RENDERING = 2


def cache_root() -> Path:
    return Path(platformdirs.user_cache_dir("reverie")) / "atlas"


def weights_identity(weights: str) -> str:
    """``imagenet``, ``random``, or ``sha256:<digest>`` of a weights file's contents."""
    if weights in (IMAGENET, RANDOM):
        return weights
    path = Path(weights).expanduser()
    if not path.is_file():
        raise WeightsMissing(f"weights file {path} does not exist; pass an .h5 weights file, 'imagenet' or 'random'")
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return f"sha256:{digest.hexdigest()}"


@dataclass(frozen=True)
class TileCache:
    """One atlas's folder of tiles, and the layer's channel count once known (so a cached atlas of a whole
    layer needs no model)."""

    folder: Path

    @classmethod
    def of(cls, model: str, weights: str, layer: str, settings: AtlasSettings) -> TileCache:
        facts = {
            "rendering": RENDERING,
            "model": model,
            "weights": weights_identity(weights),
            "layer": layer,
            **dataclasses.asdict(settings),
        }
        key = hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()[:16]
        return cls(cache_root() / f"{model}-{layer}-{key}")

    def _path(self, channel: int) -> Path:
        return self.folder / f"{channel}.png"

    def tile(self, channel: int) -> np.ndarray | None:
        """The channel's tile, or None when it was never dreamed (or its file is unreadable)."""
        try:
            with Image.open(self._path(channel)) as image:
                return np.asarray(image.convert("RGB"))
        except (OSError, ValueError):
            return None

    def put(self, channel: int, tile: np.ndarray) -> None:
        self._write(self._path(channel), lambda file: Image.fromarray(tile).save(file, format="PNG"))

    def width(self) -> int | None:
        """The layer's channel count, when an earlier run recorded it."""
        try:
            return int(json.loads((self.folder / "layer.json").read_text())["channels"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def record_width(self, channels: int) -> None:
        self._write(self.folder / "layer.json", lambda file: file.write(json.dumps({"channels": channels}).encode()))

    def _write(self, path: Path, write: Callable[[BinaryIO], object]) -> None:
        """Write through a temporary file and a rename: two atlases running at once never read half a tile."""
        self.folder.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=self.folder)
        try:
            with os.fdopen(handle, "wb") as file:
                write(file)
            os.replace(temporary, path)
        except BaseException:
            os.unlink(temporary)
            raise
