"""Where a warm dream's time goes: each octave's start, its steps' pace, and what is left around them.

Usage: python tests/bench/dream_timeline.py [--size WxH] [--model NAME] [--runs N]
Dreams the default dream with random weights (warmed up, then once untimed so every shape is compiled) and
times each step's end through the progress callback. Per octave it prints when its first step ended, the
median time between its steps, and the time before its first step beyond that pace (resizing, moving the
image to the device, the pipeline filling); then the time after the last step (back to the host, clipping).
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import time

import numpy as np
from bench_common import dream_image, parse_size

from reverie.engine import DreamModel, DreamParams, dream, load_model, warm_up
from reverie.engine.results import Progress


def timeline(image: np.ndarray, params: DreamParams, model: DreamModel) -> None:
    height, width = image.shape[:2]
    ends: list[tuple[Progress, float]] = []
    started = time.perf_counter()
    result = dream(image, params, model, progress=lambda step: ends.append((step, time.perf_counter())))
    finished = time.perf_counter()
    print(f"{model.device}, {width}x{height}, {len(result.losses)} steps: {(finished - started) * 1e3:.1f} ms")
    previous = started
    for octave in range(1, result.octaves_used + 1):
        times = [at for step, at in ends if step.octave == octave]
        pace = statistics.median(b - a for a, b in itertools.pairwise(times)) if len(times) > 1 else 0.0
        print(
            f"  octave {octave}: first step ended at {(times[0] - started) * 1e3:7.1f} ms, "
            f"{pace * 1e3:6.2f} ms per step over {len(times)} steps, "
            f"{(times[0] - previous - pace) * 1e3:6.1f} ms before its first step beyond that pace"
        )
        previous = times[-1]
    print(f"  after the last step: {(finished - previous) * 1e3:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=parse_size, default=(1024, 768), metavar="WxH")
    parser.add_argument("--model", default="inception_v3")
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    model = load_model(args.model, "random")
    params = DreamParams(model=args.model, seed=0)
    image = dream_image(args.size[1], args.size[0])
    warm_up(model, params)
    dream(image, params, model)  # compiles every shape this dream needs
    for _ in range(args.runs):
        timeline(image, params, model)


if __name__ == "__main__":
    main()
