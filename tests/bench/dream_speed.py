"""The default dream's warm time alone (no Keras example beside it), under this process's XLA_FLAGS and an
optional JAX tile policy: for comparing compile options or policies cheaply within one device run.

Usage: KERAS_BACKEND=jax python tests/bench/dream_speed.py [--size WxH] [--rounds N] [--policy TILExBATCH[+SIDE]]
No warm-up: the first dream compiles what it needs (or loads it from the compile cache); then the median of
--rounds dreams. The last line is ``dream_median_s=<seconds>``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from bench_common import dream_image, parse_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=parse_size, default=(1024, 768), metavar="WxH")
    parser.add_argument("--model", default="inception_v3")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--policy", help="TILExBATCH[+SIDE], as tile_policy.py takes it")
    args = parser.parse_args()
    if args.policy:
        from tile_policy import use_policy  # beside this file

        print(f"JAX tile policy: {use_policy(args.policy)}")
    from reverie.engine import DreamParams, dream, load_model

    model = load_model(args.model, "random")
    params = DreamParams(model=args.model, seed=0)
    image = dream_image(args.size[1], args.size[0])
    started = time.perf_counter()
    dream(image, params, model)
    first = time.perf_counter() - started
    runs = []
    for _ in range(args.rounds):
        started = time.perf_counter()
        dream(image, params, model)
        runs.append(time.perf_counter() - started)
    print(
        f"{model.device}, XLA_FLAGS={os.environ.get('XLA_FLAGS', '')!r}: first {first:.2f} s, runs "
        + ", ".join(f"{r:.4f}" for r in runs)
    )
    print(f"dream_median_s={statistics.median(runs):.4f}")


if __name__ == "__main__":
    main()
