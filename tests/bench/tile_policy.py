"""`reverie bench` with another JAX tile policy: which fixed tile size and batch a device should default to.

Usage: KERAS_BACKEND=jax python tests/bench/tile_policy.py TILExBATCH [reverie bench options]
The policy replaces the JAX backend's own for this process only; the figures printed are `reverie bench`'s.
"""

from __future__ import annotations

import sys

from reverie import cli
from reverie.engine.backends import TilePolicy
from reverie.engine.backends import jax as jax_backend


def main(argv: list[str]) -> int:
    tile, batch = (int(part) for part in argv[0].lower().split("x"))
    jax_backend.tile_policy = lambda device: TilePolicy(fixed=True, tile=tile, batch=batch)
    print(f"JAX tile policy for this run: {tile}x{tile} tiles, {batch} at once", flush=True)
    return cli.main(["bench", "--backend", "jax", *argv[1:]])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
