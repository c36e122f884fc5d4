"""One measurement in a fresh process, so its figures are its own: ``python tests/bench/probe.py``.

``memory WxH``: peak RSS of a default dream (one step per octave: memory peaks within a step).
``first-request WxH``: model load, warm-up, then the first default dream, as after ``reverie start``, then
one at a size not seen before (``another_picture``) and one the other way up; with how many functions each
dream traced on JAX (nothing traced: nothing compiled or loaded from the compile cache either).
Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from collections.abc import Sequence

from bench_common import another_picture, dream_image, gpu_peak_bytes, parse_size, trace_counter


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
        traces = trace_counter()
        warm = warm_up(model, params)
        dreams = {
            "first_dream": image,
            "then_another_size": another_picture(height, width),  # a size the warm-up did not see
            "then_portrait": another_picture(width, height),
        }
        report |= {"load_s": loaded - started, "warm_up_s": warm}
        for name, picture in dreams.items():
            traced, began = len(traces), time.perf_counter()
            result = dream(picture, params, model)
            report |= {f"{name}_s": time.perf_counter() - began, f"{name}_traces": len(traces) - traced}
        report["steps"] = len(result.losses)
    report["peak_rss_bytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    report["gpu_peak_bytes"] = gpu_peak_bytes()
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
