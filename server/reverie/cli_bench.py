"""``reverie bench``: how fast and how lean the engine dreams, against the Keras example."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from reverie.benchmarks.common import parse_size
from reverie.engine.backends import SUPPORTED
from reverie.engine.params import PRECISIONS
from reverie_wire.errors import ReverieError


def register(commands: Any) -> None:
    """Add ``bench`` to the ``reverie`` command's sub-commands."""
    parser = commands.add_parser(
        "bench",
        help="time the default dream against the Keras example (random weights)",
        description="Times the default dream (random seeded weights) with Reverie's engine against a faithful "
        "re-implementation of the Keras DeepDream example in the same process, alternating runs, and prints "
        "medians, peak memory and, last, speedup_vs_keras_example=<baseline time / our time>. "
        "--memory, --first-request and --throughput measure other things instead.",
    )
    parser.add_argument("--size", type=parse_size, default=(1024, 768), metavar="WxH", help="image size (%(default)s)")
    parser.add_argument(
        "--backend",
        choices=SUPPORTED,
        default=os.environ.get("KERAS_BACKEND", "tensorflow"),
        help="Keras backend (default: $KERAS_BACKEND, else tensorflow)",
    )
    parser.add_argument("--rounds", type=int, default=3, help="timed runs of each variant (default %(default)s)")
    parser.add_argument("--precision", choices=PRECISIONS, default="auto", help="engine precision (%(default)s)")
    parser.add_argument("--model", default="inception_v3", help="model (default %(default)s)")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--memory", action="store_true", help="peak RSS of a default dream at 1, 4 and 16 megapixels, fresh processes"
    )
    mode.add_argument(
        "--first-request",
        action="store_true",
        help="a new process's warm-up and first dream, with a cold and then a warm compile cache",
    )
    mode.add_argument("--throughput", action="store_true", help="megapixels per second of steps at --size")
    parser.add_argument("--steps", type=int, default=5, help="steps timed by --throughput (default %(default)s)")
    parser.set_defaults(func=run)


def _use_backend(name: str) -> None:
    """Keras reads its backend once, at import: set it first, and refuse a clash."""
    keras = sys.modules.get("keras")
    if keras is not None and keras.backend.backend() != name:
        raise ReverieError(f"Keras is already running on {keras.backend.backend()}; start a new process for {name}")
    os.environ["KERAS_BACKEND"] = name


def _print_speed(figures: dict[str, Any]) -> None:
    print(
        f"default dream {figures['size']} on {figures['backend']} ({figures['device']}), precision "
        f"{figures['precision']}, steps run: {figures['steps']}"
    )
    for name, median in figures["median_s"].items():
        runs = ", ".join(f"{s:.3f}" for s in figures["runs_s"][name])
        print(f"  {name:<20} median {median:8.3f} s   runs: {runs}")
    print("  first runs (s): " + ", ".join(f"{k} {v:.3f}" for k, v in figures["first_run_s"].items()))
    print("  a new image size, warm (s): " + ", ".join(f"{k} {v:.3f}" for k, v in figures["new_size_s"].items()))
    for name, value in figures["equivalence"].items():
        print(f"  {name}: {value}")
    print(f"  keras_example vs reverie (different algorithms: jitter): {figures['keras_example_vs_reverie']}")
    print(f"  peak memory: {figures['memory']}")
    print(f"speedup_vs_keras_example_warm={figures['speedup_vs_keras_example_warm']:.3f}")


def run(args: argparse.Namespace) -> int:
    _use_backend(args.backend)
    from reverie import bench

    width, height = args.size
    if args.memory:
        figures: dict[str, Any] = bench.memory(args.precision)
    elif args.first_request:
        figures = bench.first_request(width, height, args.precision)
    elif args.throughput:
        figures = bench.throughput(width, height, args.steps, args.precision, args.model)
    else:
        figures = bench.speed(width, height, args.rounds, args.precision, args.model)
        figures["memory"] = bench.peak_memory()
    if args.json:
        print(json.dumps(figures))
    elif "speedup_vs_keras_example" in figures:
        _print_speed(figures)
    else:
        for name, value in figures.items():
            print(f"{name}: {value}")
    if "speedup_vs_keras_example" in figures:
        print(f"speedup_vs_keras_example={figures['speedup_vs_keras_example']:.3f}")
    return 0
