"""The engine against the Keras DeepDream example, in one process, honestly.

Usage: python tests/bench/bench.py [--size WxH] [--backend tensorflow|jax] [--rounds N] [--model NAME]
[--precision P] [--json] [--memory | --first-request | --throughput [--steps N]]  (``--help`` says more)

Runs alternate (baseline, ours, ours, baseline, …) so a noisy machine slows both alike; figures are
medians; the last line printed is ``speedup_vs_keras_example=<float>`` (baseline time / our time).
The baseline is the example as its script runs a dream: on TensorFlow a new ``tf.function`` per dream
(its per-octave traces are part of each dream), on JAX one ``jax.jit`` compiled per octave shape once and
then reused (compiling again for every dream would bury the example's steps under its compiles on a GPU;
see docs/performance.md). Memory and first-request figures come from
fresh processes (``probe.py`` beside this file).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from bench_common import another_picture, dream_image, gpu_peak_bytes, parse_size  # beside this file

from reverie.engine.backends import SUPPORTED
from reverie.engine.params import PRECISIONS

PROBE = Path(__file__).with_name("probe.py")
MEMORY_SIZES = ((1024, 1024), (2048, 2048), (4096, 4096))
GIB = 2**30


@dataclass
class Timings:
    """Seconds of each variant's timed runs."""

    runs: dict[str, list[float]] = field(default_factory=dict)

    def add(self, name: str, seconds: float) -> None:
        self.runs.setdefault(name, []).append(seconds)

    def median(self, name: str) -> float:
        return statistics.median(self.runs[name])


def _timed(run: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    value = run()
    return time.perf_counter() - started, value


def _difference(a: np.ndarray, b: np.ndarray, source: np.ndarray) -> dict[str, float]:
    """How far two dreams of one picture lie apart: pixel error, PSNR, and correlation of what each changed."""
    error = np.abs(a.astype(np.float64) - b)
    mse = float(np.mean(error**2))
    change_a, change_b = (a - source).ravel(), (b - source).ravel()
    return {
        "mean_abs": float(error.mean()),
        "max_abs": float(error.max()),
        "psnr_db": float("inf") if mse == 0 else float(10 * np.log10(1.0 / mse)),
        "change_correlation": float(np.corrcoef(change_a, change_b)[0, 1]),
    }


def _nudged(image: np.ndarray) -> np.ndarray:
    """The picture with every value moved by up to half an 8-bit level: no more than saving it as an 8-bit
    file moves it, and invisible, but a different picture to the dream's arithmetic."""
    noise = np.random.default_rng(1).uniform(-0.5 / 255, 0.5 / 255, image.shape).astype(np.float32)
    return np.clip(image + noise, 0.0, 1.0)


def speed(width: int, height: int, rounds: int, precision: str, model_name: str) -> dict[str, Any]:
    """Median seconds of the default dream: the Keras example against Reverie; and bf16 against fp32."""
    import keras
    from keras_example import KerasExample

    from reverie.engine import DreamParams, dream, load_model, warm_up

    backend = keras.backend.backend()
    model = load_model(model_name, "random")
    params = DreamParams(model=model_name, seed=0, precision=precision)
    layers = model.spec.resolve_layers(params.preset, None)
    example = KerasExample(model.base, layers)
    image = dream_image(height, width)
    timings = Timings()

    warm_step = example.new_step()
    first_baseline, (baseline_image, baseline_steps) = _timed(lambda: example.dream(image, warm_step))
    warm_up_seconds = warm_up(model, params)
    first_ours, _ = _timed(lambda: dream(image, params, model))

    variants: dict[str, Callable[[], Any]] = {
        "keras_example_warm": lambda: example.dream(image, warm_step),
        "reverie": lambda: dream(image, params, model),
    }
    if backend == "tensorflow":
        variants["keras_example"] = lambda: example.dream(image, example.new_step())
    order = list(variants)
    results: dict[str, Any] = {}
    for round_ in range(rounds):
        for name in order if round_ % 2 == 0 else order[::-1]:
            seconds, results[name] = _timed(variants[name])
            timings.add(name, seconds)
            print(f"  round {round_ + 1}/{rounds} {name}: {seconds:.3f} s", file=sys.stderr, flush=True)

    # An image size not seen before (as an artist's next selection): Reverie's compiled shapes are the
    # tiles', the example's its octaves'.
    other = another_picture(height, width)
    new_size_ours, _ = _timed(lambda: dream(other, params, model))
    new_size_baseline, _ = _timed(lambda: example.dream(other, warm_step))

    ours = results["reverie"]
    used = model.precision(precision)
    equivalence: dict[str, Any] = {}
    if used != "float32":
        float32 = params.replace(precision="float32")
        plain = dream(image, float32, model)
        equivalence[f"{used}_vs_float32"] = _difference(ours.image, plain.image, image)
        # The yardstick: how far float32 itself drifts when the picture changes by less than an 8-bit
        # level (a dream amplifies any small difference over its 60 steps).
        nudged = dream(_nudged(image), float32, model)
        equivalence["float32_vs_float32_of_the_picture_nudged"] = _difference(nudged.image, plain.image, image)
    equivalence["seeded_repeat_identical"] = bool(np.array_equal(ours.image, dream(image, params, model).image))

    headline = "keras_example" if backend == "tensorflow" else "keras_example_warm"
    return {
        "backend": backend,
        "device": model.device,
        "size": f"{width}x{height}",
        "precision": used,
        "steps": {"keras_example": baseline_steps, "reverie": len(ours.losses)},
        "first_run_s": {"keras_example": first_baseline, "reverie_warm_up": warm_up_seconds, "reverie": first_ours},
        "new_size_s": {"keras_example_warm": new_size_baseline, "reverie": new_size_ours},
        "median_s": {name: timings.median(name) for name in timings.runs},
        "runs_s": timings.runs,
        "baseline": headline,
        "speedup_vs_keras_example_warm": timings.median("keras_example_warm") / timings.median("reverie"),
        "speedup_vs_keras_example": timings.median(headline) / timings.median("reverie"),
        "equivalence": equivalence,
        "keras_example_vs_reverie": _difference(baseline_image, ours.image, image),
    }


def _probe(mode: str, width: int, height: int, precision: str, model_name: str) -> dict[str, Any]:
    """Run one probe in a fresh Python with this process's backend; its last stdout line is JSON."""
    command = [sys.executable, str(PROBE), mode, f"{width}x{height}", "--precision", precision, "--model", model_name]
    done = subprocess.run(command, capture_output=True, text=True, env=os.environ.copy(), check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def memory(precision: str, model_name: str, sizes: tuple[tuple[int, int], ...] = MEMORY_SIZES) -> dict[str, Any]:
    """Peak RSS of a default dream at each size, each in its own process."""
    return {f"{w}x{h}": _probe("memory", w, h, precision, model_name) for w, h in sizes}


def first_request(width: int, height: int, precision: str, model_name: str) -> dict[str, Any]:
    """A fresh process's first dream after warm-up, twice: the first fills the compile cache, the second uses it."""
    return {
        "cold_cache": _probe("first-request", width, height, precision, model_name),
        "warm_cache": _probe("first-request", width, height, precision, model_name),
    }


def throughput(width: int, height: int, steps: int, precision: str, model_name: str) -> dict[str, Any]:
    """Gradient steps per second on one large image (one octave), as megapixels of image per second: over
    the whole dream, and over its steps alone (from the first step's end to the last's, so without the
    image's way to and from the device and the host's work on it)."""
    from reverie.engine import DreamParams, dream, load_model, warm_up

    model = load_model(model_name, "random")
    params = DreamParams(model=model_name, seed=0, octaves=1, max_loss=None, precision=precision)
    image = dream_image(height, width)
    warm_up(model, params)
    dream(image, params.replace(steps=1), model)  # compiles the glue for this image shape
    ends: list[float] = []
    seconds, result = _timed(
        lambda: dream(image, params.replace(steps=steps), model, progress=lambda _: ends.append(time.perf_counter()))
    )
    plan = model.tiles.plan(params)
    layers = model.spec.resolve_layers(params.preset, None)
    layout = plan.layout(height, width, model.min_side(tuple(layers)))
    whole = plan.whole((height, width))
    padded = plan.padded((height, width))
    tile_pixels = padded[0] * padded[1] if whole else layout.count * layout.tile_height * layout.tile_width
    gradient_fn = model.gradient_fn(layers, {}, precision)
    batch = np.zeros((plan.batch, layout.tile_height, layout.tile_width, 3), np.float32)
    gradient_fn(batch)
    alone, _ = _timed(lambda: [gradient_fn(batch) for _ in range(steps)])
    return {
        "device": model.device,
        "size": f"{width}x{height}",
        "precision": model.precision(precision),
        "steps": len(result.losses),
        "seconds": seconds,
        "image_mp_per_s": width * height * steps / seconds / 1e6,
        # steps run a chunk per call on a whole octave, and report together: their pace is the dream's
        "steps_alone_mp_per_s": width * height * (steps - 1) / (ends[-1] - ends[0]) / 1e6
        if steps > 1 and not whole
        else None,
        "tile_mp_per_s": tile_pixels * steps / seconds / 1e6,
        "gradient_alone_mp_per_s": batch.size / 3 * steps / alone / 1e6,  # one full batch, host copies included
        "tiles": f"none: the whole image, padded to {padded[1]}x{padded[0]}"
        if whole
        else f"{layout.count} of {layout.tile_width}x{layout.tile_height}, {plan.batch} at once",
    }


def peak_memory() -> dict[str, Any]:
    return {
        "peak_rss_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / GIB,
        "gpu_peak_gib": None if (peak := gpu_peak_bytes()) is None else peak / GIB,
    }


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python tests/bench/bench.py",
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
    return parser.parse_args(argv)


def _use_backend(name: str) -> None:
    """Keras reads its backend once, at import: set it first, and refuse a clash."""
    keras = sys.modules.get("keras")
    if keras is not None and keras.backend.backend() != name:
        raise SystemExit(f"Keras is already running on {keras.backend.backend()}; start a new process for {name}")
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


def main(argv: list[str] | None = None) -> int:
    args = parse_arguments(argv)
    _use_backend(args.backend)
    width, height = args.size
    if args.memory:
        figures: dict[str, Any] = memory(args.precision, args.model)
    elif args.first_request:
        figures = first_request(width, height, args.precision, args.model)
    elif args.throughput:
        figures = throughput(width, height, args.steps, args.precision, args.model)
    else:
        figures = speed(width, height, args.rounds, args.precision, args.model)
        figures["memory"] = peak_memory()
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


if __name__ == "__main__":
    sys.exit(main())
