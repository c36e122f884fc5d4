"""`bench.py` with another JAX tile policy: which fixed tile size and batch a device should default to,
and up to which size octaves run whole.

Usage: KERAS_BACKEND=jax python tests/bench/tile_policy.py TILExBATCH[+SIDE] [bench.py options]
SIDE: octaves whose padded whole image holds at most SIDE² pixels run whole, without tiles (0: every octave
on tiles, as before whole octaves); without it, the backend's own limit. The policy replaces the JAX
backend's own for this process only; the figures printed are `bench.py`'s.
"""

from __future__ import annotations

import sys

import bench  # beside this file

from reverie.engine.backends import jax as jax_backend
from reverie.engine.backends.base import TilePolicy


def use_policy(text: str) -> str:
    """Replace the JAX backend's tile policy by the one ``text`` (TILExBATCH[+SIDE]) names; says which."""
    tiles, _, side = text.lower().partition("+")
    tile, batch = (int(part) for part in tiles.split("x"))
    own = jax_backend.BACKEND.tile_policy

    def policy(device: jax_backend.Device) -> TilePolicy:
        bucket_pixels = own(device).bucket_pixels if not side else int(side) ** 2
        return TilePolicy(fixed=True, tile=tile, batch=batch, bucket_pixels=bucket_pixels)

    jax_backend.BACKEND.tile_policy = policy  # type: ignore[method-assign]
    whole = "the backend's own limit" if not side else f"up to {side}x{side}" if int(side) else "never"
    return f"{tile}x{tile} tiles, {batch} at once; whole octaves {whole}"


def main(argv: list[str]) -> int:
    print(f"JAX tile policy for this run: {use_policy(argv[0])}", flush=True)
    return bench.main(["--backend", "jax", *argv[1:]])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
