"""Where a warm TensorFlow dream's time goes on the CPU: TensorFlow's profiler around one dream, its ops summed
by kind, and the host's share (what runs outside the gradient function).

Usage: KERAS_BACKEND=tensorflow python tests/bench/cpu_profile.py [--size WxH] [--steps N] [--model NAME]
Prints the dream's wall time, the time inside the compiled gradient, and a table of the ops' own time by kind
(summed over TensorFlow's executor threads, so with two ops at once the shares are of op time, not of wall
time). Profiling adds its own cost to every op: read shares, and take speeds from ``bench.py``.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections import Counter
from pathlib import Path

# An op's kind from its type (the part of a TensorFlow trace event's name after the colon).
KINDS = (
    ("BackpropInput", "convolutions, gradient (Conv2DBackpropInput)"),
    ("Conv2D", "convolutions, forward (with bias and ReLU fused)"),
    ("ReluGrad", "ReLU gradients"),
    ("PoolGrad", "pooling gradients"),
    ("Pool", "pooling, forward"),
    ("AddN", "gradient sums where a layer feeds several (AddN)"),
    ("Concat", "concatenations and their gradients' slices"),
    ("Slice", "concatenations and their gradients' slices"),
    ("Cast", "casts between bfloat16 and float32"),
)
OTHER = "the objective and everything else"


def kind(op_type: str) -> str:
    return next((name for key, name in KINDS if key in op_type), OTHER)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="1024x768")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--model", default="inception_v3")
    args = parser.parse_args()
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")

    import tensorflow as tf
    from bench_common import dream_image, parse_size
    from tensorflow.tsl.profiler.protobuf import xplane_pb2

    from reverie.engine import DreamParams, dream, load_model, warm_up

    width, height = parse_size(args.size)
    model = load_model(args.model, "random")
    params = DreamParams(model=args.model, seed=0, steps=args.steps)
    image = dream_image(height, width)
    warm_up(model, params)
    dream(image, params, model)
    with tempfile.TemporaryDirectory() as folder:
        tf.profiler.experimental.start(folder)
        started = time.perf_counter()
        dream(image, params, model)
        wall = time.perf_counter() - started
        tf.profiler.experimental.stop()
        (trace,) = Path(folder).glob("plugins/profile/*/*.xplane.pb")
        space = xplane_pb2.XSpace()
        space.ParseFromString(trace.read_bytes())

    by_kind: Counter[str] = Counter()
    gradient = 0.0
    for plane in space.planes:
        names = {key: meta.name for key, meta in plane.event_metadata.items()}
        for line in plane.lines:
            for event in line.events:
                name = names.get(event.metadata_id, "")
                seconds = event.duration_ps / 1e12
                if line.name == "python" and name == "TFE_Py_ExecuteCancelable":
                    gradient += seconds
                elif line.name.startswith("tf_Compute") and ":" in name and "::" not in name:
                    by_kind[kind(name.rsplit(":", 1)[1])] += seconds
    total = sum(by_kind.values())
    print(f"dream {args.size}, {args.steps} steps an octave: {wall:.2f} s, of which {gradient:.2f} s in the gradient")
    host = wall - gradient
    print(f"({100 * gradient / wall:.1f} %), {host:.2f} s on the host ({100 * host / wall:.1f} %)")
    print("| ops of kind | op time | share |\n|---|---|---|")
    for name, seconds in by_kind.most_common():
        print(f"| {name} | {seconds:.2f} s | {100 * seconds / total:.1f} % |")


if __name__ == "__main__":
    main()
