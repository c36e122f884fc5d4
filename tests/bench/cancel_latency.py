"""How long a cancelled dream takes to stop: from the cancel request to ``DreamCancelled`` in the dreaming thread.

Usage: python tests/bench/cancel_latency.py [--size WxH] [--model NAME] [--tries N]
Dreams the default dream (random weights; warmed up and dreamt once first, so nothing compiles) and asks for
a cancel at spread-out moments after its first step, from another thread, as the server's job queue does;
prints each latency and the worst. On a device that runs an octave's steps in chunks, a cancel waits for
the chunk under way (sized to last about a quarter of a second).
"""

from __future__ import annotations

import argparse
import threading
import time

from bench_common import dream_image, parse_size

from reverie.engine import DreamParams, dream, load_model, warm_up
from reverie_wire.errors import DreamCancelled


def latency(image, params, model, delay: float) -> float | None:  # type: ignore[no-untyped-def]
    """Seconds from the cancel request (``delay`` after the first step) to the dream stopping; None when the
    dream ended first."""
    requested: list[float] = []
    first_step = threading.Event()

    def cancel_later() -> None:
        first_step.wait()
        time.sleep(delay)
        requested.append(time.perf_counter())

    thread = threading.Thread(target=cancel_later, daemon=True)
    thread.start()
    try:
        dream(image, params, model, progress=lambda _: first_step.set(), should_cancel=lambda: bool(requested))
    except DreamCancelled:
        return time.perf_counter() - requested[0]
    finally:
        first_step.set()
        thread.join()
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=parse_size, default=(1024, 768), metavar="WxH")
    parser.add_argument("--model", default="inception_v3")
    parser.add_argument("--tries", type=int, default=6)
    parser.add_argument("--spread", type=float, default=1.0, help="latest cancel, in seconds after the first step")
    args = parser.parse_args()
    model = load_model(args.model, "random")
    params = DreamParams(model=args.model, seed=0, max_loss=None)
    image = dream_image(args.size[1], args.size[0])
    warm_up(model, params)
    started = time.perf_counter()
    dream(image, params, model)
    whole = time.perf_counter() - started
    print(f"{model.device}, {args.model} {args.size[0]}x{args.size[1]}: a whole dream {whole:.2f} s")
    latencies = []
    for attempt in range(args.tries):
        delay = args.spread * (attempt + 0.5) / args.tries
        seconds = latency(image, params, model, delay)
        print(
            f"  cancel {delay:.2f} s after the first step: "
            + ("ended first" if seconds is None else f"stopped after {seconds:.3f} s")
        )
        if seconds is not None:
            latencies.append(seconds)
    if latencies:
        print(f"cancel_latency_max_s={max(latencies):.3f}")


if __name__ == "__main__":
    main()
