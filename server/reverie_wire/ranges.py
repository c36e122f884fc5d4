"""The dream parameters' accepted ranges: the server validates with them, the command line and the plug-in's
dialog offer them (and a zoom animation's). Standard library only."""

from __future__ import annotations

MAX_SEED = 2**32 - 1

RANGES: dict[str, tuple[float, float]] = {
    "octaves": (1, 12),
    "octave_scale": (1.05, 4.0),
    "steps": (1, 1000),
    "step_size": (1e-5, 1.0),
    "max_loss": (1e-6, 1e9),
    "jitter": (0, 512),
    "seed": (0, MAX_SEED),
    "tile_size": (128, 4096),
    "tile_overlap": (0, 1024),
    "layer_weight": (-1e3, 1e3),
    "lap_levels": (1, 8),
}
# A zoom animation's enlargement and anticlockwise turn (degrees) from one frame to the next.
ZOOM_RANGES: dict[str, tuple[float, float]] = {"zoom": (1.0, 4.0), "rotate": (-180.0, 180.0)}
