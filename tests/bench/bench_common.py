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
    y = np.arange(height, dtype=np.float32)[:, None]
    x = np.arange(width, dtype=np.float32)[None, :]
    image = np.empty((height, width, 3), np.float32)
    for c in range(3):  # one channel at a time: the memory probe should measure the dream, not this
        image[:, :, c] = np.sin(x / (17 + 9 * c) + y / (23 + 5 * c)) * 0.3 + 0.5
        image[:, :, c] += 0.1 * rng.standard_normal((height, width), dtype=np.float32)
    return np.clip(image, 0, 1, out=image)


def another_picture(height: int, width: int) -> np.ndarray:
    """A picture of a size not seen before, as an artist's next selection: 1/16 smaller each way, so that
    on a device its octaves fall on other tile grids than the default dream's."""
    return dream_image(height - height // 16, width - width // 16)


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


def trace_counter() -> list[str]:
    """The names of the functions JAX traces from now on (none on other backends)."""
    import keras

    traces: list[str] = []
    if keras.backend.backend() == "jax":
        import jax

        def traced(event: str, duration_secs: float, **details: str | int) -> None:
            if event == "/jax/core/compile/jaxpr_trace_duration":
                traces.append(str(details.get("fun_name", "")))

        jax.monitoring.register_event_duration_secs_listener(traced)
    return traces
