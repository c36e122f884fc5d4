"""One measurement in a fresh process, so its figures are its own: ``python tests/bench/probe.py``.

``memory WxH``: peak RSS of a default dream (one step per octave: memory peaks within a step).
``first-request WxH``: model load, warm-up, then the first default dream, as after ``reverie start``, and
one at a size not seen before (``another_picture``).
Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from collections.abc import Sequence

from bench_common import another_picture, dream_image, gpu_peak_bytes, parse_size


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python tests/bench/probe.py")
    parser.add_argument("mode", choices=("memory", "first-request"))
    parser.add_argument("size", type=parse_size)
    parser.add_argument("--model", default="inception_v3")
    parser.add_argument("--precision", default="auto")
    args = parser.parse_args(argv)

    from reverie.engine import DreamParams, dream, load_model, warm_up

    width, height = args.size
    started = time.perf_counter()
    model = load_model(args.model, "random")
    loaded = time.perf_counter()
    params = DreamParams(model=args.model, seed=0, precision=args.precision)
    image = dream_image(height, width)
    report: dict[str, object] = {"mode": args.mode, "size": f"{width}x{height}", "device": model.device}
    if args.mode == "memory":
        dream(image, params.replace(steps=1), model)
    else:
        warm = warm_up(model, params)
        first = time.perf_counter()
        result = dream(image, params, model)
        second = time.perf_counter()
        dream(another_picture(height, width), params, model)  # a size the warm-up did not see
        report |= {
            "load_s": loaded - started,
            "warm_up_s": warm,
            "first_dream_s": second - first,
            "then_another_size_s": time.perf_counter() - second,
            "steps": len(result.losses),
        }
    report["peak_rss_bytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    report["gpu_peak_bytes"] = gpu_peak_bytes()
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
