"""Where the server is in its life, as ``hello`` reports it: loading (and what for), ready, stopping."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any


@dataclass
class ServerState:
    state: str = "loading"
    phase: str | None = "starting"  # what loading waits for; None once ready
    download: dict[str, Any] | None = None  # {"path", "bytes"} while the weights download
    device: str | None = None
    backend: str | None = None  # Keras' backend, known once the worker has loaded the model
    started: float = field(default_factory=time.monotonic)
    exit_code: int = 0  # 1 once the model could not be loaded

    def download_progress(self) -> dict[str, int] | None:
        """Bytes of the weights downloaded so far (Keras writes them straight into its cache) and in all."""
        if self.download is None:
            return None
        try:
            done = os.stat(self.download["path"]).st_size
        except FileNotFoundError:
            done = 0
        return {"done": done, "total": self.download["bytes"]}


def package_version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None
