"""A device trace of one warm dream: when the device works, when it idles, and what the host does meanwhile.

Usage: KERAS_BACKEND=jax python tests/bench/dream_trace.py [--size WxH] [--octaves N] [--steps N] [--out DIR]
Dreams once untraced (every shape compiled), then once under JAX's profiler, and prints: the dream's wall
time; the device's busy time (the union of its kernels and copies) and its largest idle gaps, with what the
host was doing in each; per compiled function, its kernels and how much of each call's span they keep the
device busy (a call busy far under its span waits on kernel launches); the kernels that took most time; the
host's jit dispatches and waits. The raw trace (an XSpace, ``trace.xplane.pb``) is kept in --out for a
closer look after the device is given back.
Tracing adds its own cost to every kernel launch: read its times as shares, and take speeds from
``bench.py``.
"""

from __future__ import annotations

import argparse
import itertools
import re
import shutil
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# The host event that brackets the traced dream.
WINDOW = "reverie.dream"
# Host events worth counting: jit dispatches, and waits for the device.
HOST_EVENTS = ("PjitFunction", "CommonPjRtBuffer::Await")


# How a GPU kernel names the compiled function it belongs to: a stat of its own once the trace is
# processed, else inside the annotation XLA launched it under.
_MODULE_IN_ANNOTATION = re.compile(r"hlo_module=([^,#]+)")


@dataclass(frozen=True)
class Span:
    name: str
    start: float  # ns
    end: float
    module: str | None = None  # a device kernel's compiled function (jit_total is the gradient)


def module_of(stats: Iterable[tuple[str, Any]]) -> str | None:
    for name, value in stats:
        if name == "hlo_module":
            return str(value)
        if isinstance(value, str) and (found := _MODULE_IN_ANNOTATION.search(value)):
            return found.group(1)
    return None


def events(lines: Iterable[Any]) -> list[Span]:
    return [
        Span(event.name, event.start_ns, event.start_ns + event.duration_ns) for line in lines for event in line.events
    ]


def device_spans(profile: Any) -> list[Span]:
    """Kernels and copies on the device's streams (a GPU's plane also holds lines derived from them), each
    with its compiled function where the trace names it."""
    return [
        Span(event.name, event.start_ns, event.start_ns + event.duration_ns, module_of(event.stats))
        for plane in profile.planes
        if plane.name.startswith("/device:")
        for line in plane.lines
        if line.name.startswith("Stream")
        for event in line.events
    ]


def busy_intervals(spans: list[Span]) -> list[tuple[float, float]]:
    """The union of the spans' intervals, sorted."""
    merged: list[tuple[float, float]] = []
    for span in sorted(spans, key=lambda span: span.start):
        if merged and span.start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], span.end))
        else:
            merged.append((span.start, span.end))
    return merged


def gaps(busy: list[tuple[float, float]], start: float, end: float) -> list[tuple[float, float]]:
    """The idle stretches between ``start`` and ``end``."""
    edges = [(start, start), *busy, (end, end)]
    return [(a[1], b[0]) for a, b in itertools.pairwise(edges) if b[0] > a[1]]


def host_during(spans: list[Span], start: float, end: float) -> str:
    """The (up to 3) host events overlapping [start, end] most."""
    overlap: dict[str, float] = defaultdict(float)
    for span in spans:
        shared = min(span.end, end) - max(span.start, start)
        if shared > 0:
            overlap[span.name] += shared
    ranked = sorted(overlap.items(), key=lambda item: -item[1])[:3]
    return ", ".join(f"{name} {seconds / 1e6:.2f} ms" for name, seconds in ranked) or "nothing traced"


def outermost(spans: list[Span]) -> list[Span]:
    """The spans not inside another of the same name (a jit call's dispatch shows as two nested events)."""
    kept: list[Span] = []
    ends: dict[str, float] = {}
    for span in sorted(spans, key=lambda span: (span.start, -span.end)):
        if span.end > ends.get(span.name, -1.0):
            kept.append(span)
            ends[span.name] = span.end
    return kept


def totals(spans: list[Span]) -> list[tuple[str, int, float]]:
    """(name, count, total ns) per name, largest total first."""
    count: dict[str, int] = defaultdict(int)
    total: dict[str, float] = defaultdict(float)
    for span in spans:
        count[span.name] += 1
        total[span.name] += span.end - span.start
    return sorted(((name, count[name], total[name]) for name in total), key=lambda row: -row[2])


def calls(spans: list[Span]) -> list[tuple[str, int, float, float, float]]:
    """(name, calls, then per call: kernels, busy ns, span ns) for each compiled function, the largest total
    span first; a call is a run of consecutive kernels of one function. Busy well under span means the
    call's kernels wait on their launches, not on the device's arithmetic."""
    runs: list[list[Span]] = []
    for span in sorted(spans, key=lambda span: span.start):
        if runs and runs[-1][0].name == span.name:
            runs[-1].append(span)
        else:
            runs.append([span])
    rows: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0, 0.0])
    for run in runs:
        row = rows[run[0].name]
        row[0] += 1
        row[1] += len(run)
        row[2] += sum(end - start for start, end in busy_intervals(run))
        row[3] += max(span.end for span in run) - run[0].start
    return sorted(
        ((name, int(n), kernels / n, busy / n, span / n) for name, (n, kernels, busy, span) in rows.items()),
        key=lambda row: -row[1] * row[4],
    )


def summarize(profile: Any, top: int = 12) -> list[str]:
    """The report's lines for one traced dream."""
    host = [span for plane in profile.planes if plane.name == "/host:CPU" for span in events(plane.lines)]
    windows = [span for span in host if span.name == WINDOW]
    if not windows:
        return [f"no {WINDOW} event in the trace"]
    window = windows[0]
    inside = outermost([span for span in host if window.start <= span.start < window.end and span is not window])
    lines = [f"dream: {(window.end - window.start) / 1e6:.1f} ms"]
    streams = device_spans(profile)
    device = [span for span in streams if window.start <= span.start < window.end]
    if device:
        busy = busy_intervals(device)
        idle = gaps(busy, window.start, window.end)
        busy_ns = sum(end - start for start, end in busy)
        lines.append(
            f"device busy {busy_ns / 1e6:.1f} ms ({busy_ns / (window.end - window.start):.0%}), "
            f"idle {sum(end - start for start, end in idle) / 1e6:.1f} ms in {len(idle)} gaps, "
            f"{sum(1 for start, end in idle if end - start > 50e3)} of them over 50 µs"
        )
        lines.append("largest idle gaps (at ms into the dream: length; host meanwhile):")
        for start, end in sorted(idle, key=lambda gap: gap[0] - gap[1])[:top]:
            at, length = (start - window.start) / 1e6, (end - start) / 1e6
            lines.append(f"  {at:8.2f}: {length:6.2f} ms; {host_during(inside, start, end)}")
        by_module = [Span(span.module, span.start, span.end) for span in device if span.module]
        if by_module:
            lines.append("device time by compiled function (kernels, ms):")
            lines += [f"  {total / 1e6:8.2f} ms {count:6d}× {name}" for name, count, total in totals(by_module)[:top]]
            lines.append("per call of each compiled function (calls: kernels, device busy in the call's span):")
            lines += [
                f"  {count:6d}× {name}: {kernels:.0f} kernels, {busy / 1e6:.3f} of {span / 1e6:.3f} ms "
                f"({busy / span:.0%})"
                for name, count, kernels, busy, span in calls(by_module)[:top]
            ]
        lines.append("kernels and copies by total time (count, ms):")
        lines += [f"  {total / 1e6:8.2f} ms {count:6d}× {name[:100]}" for name, count, total in totals(device)[:top]]
    else:
        lines.append(
            f"none of the device's {len(streams)} kernels and copies falls inside the dream (are the planes' "
            "clocks apart?)"
            if streams
            else "no device streams in the trace (a CPU runs its kernels on host threads)"
        )
    lines.append("host dispatches and waits (count, ms):")
    counted = [span for span in inside if span.name.startswith(HOST_EVENTS)]
    lines += [f"  {total / 1e6:8.2f} ms {count:6d}× {name}" for name, count, total in totals(counted)[:top]]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="1024x768", metavar="WxH")
    parser.add_argument("--octaves", type=int, default=3)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--model", default="inception_v3")
    parser.add_argument("--out", type=Path, default=Path("."))
    args = parser.parse_args()

    import jax
    from bench_common import dream_image, parse_size
    from jax.profiler import ProfileData, ProfileOptions, TraceAnnotation

    from reverie.engine import DreamParams, dream, load_model, warm_up

    width, height = parse_size(args.size)
    model = load_model(args.model, "random")
    params = DreamParams(model=args.model, seed=0, octaves=args.octaves, steps=args.steps, max_loss=None)
    image = dream_image(height, width)
    warm_up(model, params)
    dream(image, params, model)  # compiles every shape this dream needs
    options = ProfileOptions()
    options.python_tracer_level = 0  # Python's own calls would slow the host down and crowd the trace
    with tempfile.TemporaryDirectory() as folder:
        with jax.profiler.trace(folder, profiler_options=options):
            started = time.perf_counter()
            with TraceAnnotation(WINDOW):
                dream(image, params, model)
            seconds = time.perf_counter() - started
        (trace,) = Path(folder).glob("plugins/profile/*/*.xplane.pb")
        args.out.mkdir(parents=True, exist_ok=True)
        kept = args.out / "trace.xplane.pb"
        shutil.copy(trace, kept)
    print(f"{model.device}, {args.size}, {args.octaves} octave(s) × {args.steps} steps, traced: {seconds * 1e3:.1f} ms")
    print("\n".join(summarize(ProfileData.from_file(str(kept)))))
    print(f"raw trace: {kept}")


if __name__ == "__main__":
    main()
