"""The compiled gradient alone, per tile shape and batch: which shapes a device runs efficiently.

Usage: KERAS_BACKEND=jax python tests/bench/gradient_shapes.py 512x512x16 1024x1024x4 ...
(WxHxBATCH). Each shape is compiled, run once, then timed over --repeats calls on the device; prints
one line per shape: milliseconds per call and megapixels of tiles per second."""

from __future__ import annotations

import argparse
import time

import numpy as np


def parse_shape(text: str) -> tuple[int, int, int]:
    width, height, batch = (int(part) for part in text.lower().split("x"))
    return width, height, batch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("shapes", nargs="+", type=parse_shape, metavar="WxHxBATCH")
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--model", default="inception_v3")
    args = parser.parse_args()

    import jax
    import jax.numpy as jnp

    from reverie.engine import load_model

    model = load_model(args.model, "random")
    gradient = model.gradient_fn(model.spec.resolve_layers("keras", None), {}, "auto")
    print(f"device={model.device} precision={model.precision('auto')}", flush=True)
    for width, height, batch in args.shapes:
        tiles = jnp.asarray(np.random.default_rng(0).uniform(-1, 1, (batch, height, width, 3)).astype(np.float32))
        started = time.perf_counter()
        jax.block_until_ready(gradient.raw(tiles))
        compiled = time.perf_counter() - started
        started = time.perf_counter()
        for _ in range(args.repeats):
            out = gradient.raw(tiles)
        jax.block_until_ready(out)
        seconds = (time.perf_counter() - started) / args.repeats
        print(
            f"{width}x{height}x{batch}: {seconds * 1e3:.2f} ms per call, "
            f"{batch * width * height / seconds / 1e6:.3g} MP/s (first call {compiled:.1f} s)",
            flush=True,
        )


if __name__ == "__main__":
    main()
