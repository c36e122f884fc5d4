"""Small pieces shared by the benchmarks."""

from __future__ import annotations

import argparse
import re

import numpy as np


def parse_size(text: str) -> tuple[int, int]:
    """``1024x768`` (or ``1024×768``) as (width, height)."""
    match = re.fullmatch(r"\s*(\d+)\s*[x×X]\s*(\d+)\s*", text)
    if not match or min(int(match[1]), int(match[2])) < 1:
        raise argparse.ArgumentTypeError(f"size must look like 1024x768, got {text!r}")
    return int(match[1]), int(match[2])


def dream_image(height: int, width: int) -> np.ndarray:
    """A seeded picture with structure at every scale, the same in every process."""
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    waves = np.stack([np.sin(x / (17 + 9 * c) + y / (23 + 5 * c)) for c in range(3)], axis=2)
    return np.clip(0.5 + 0.3 * waves + 0.1 * rng.standard_normal((height, width, 3)), 0, 1).astype(np.float32)


def gpu_peak_bytes() -> int | None:
    """The accelerator's peak memory in use, where the backend reports one (JAX on a GPU)."""
    import keras

    if keras.backend.backend() != "jax":
        return None
    import jax

    device = jax.devices()[0]
    if device.platform == "cpu":
        return None
    return int((device.memory_stats() or {}).get("peak_bytes_in_use", 0)) or None
