"""The seed's bound and a zoom animation's ranges; the dream parameters' own are in ``reverie_wire.schema``.
Standard library only."""

from __future__ import annotations

MAX_SEED = 2**32 - 1

# A zoom animation's enlargement and anticlockwise turn (degrees) from one frame to the next.
ZOOM_RANGES: dict[str, tuple[float, float]] = {"zoom": (1.0, 4.0), "rotate": (-180.0, 180.0)}
