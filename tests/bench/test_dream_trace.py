"""The dream trace's report: device busy and idle time, kernels and host dispatches, from an XSpace."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

jax_profiler = pytest.importorskip("jax.profiler")

import dream_trace  # noqa: E402  (tests/bench is on the path: pytest puts a test's folder there)

REPO = Path(__file__).resolve().parents[2]
MS = 10**9  # picoseconds, the XSpace's unit for offsets and durations


def event(name_id: int, start_ms: float, length_ms: float, stat: str = "") -> str:
    timing = f"offset_ps: {int(start_ms * MS)} duration_ps: {int(length_ms * MS)}"
    return f"events {{ metadata_id: {name_id} {timing} {stat} }}"


# A kernel's compiled function: a stat of its own (id 1), or inside XLA's launch annotation (id 2).
GRADIENT = 'stats { metadata_id: 1 str_value: "jit_total" }'
UPDATE = 'stats { metadata_id: 2 str_value: "XlaModule:#hlo_module=jit__update,program_id=3#" }'
STATS = 'stat_metadata { key: 1 value { id: 1 name: "hlo_module" } } ' + (
    'stat_metadata { key: 2 value { id: 2 name: "kernel_annotation" } }'
)


def names(*names: str) -> str:
    return " ".join(
        f'event_metadata {{ key: {i} value {{ id: {i} name: "{name}" }} }}' for i, name in enumerate(names, 1)
    )


# A 10 ms dream: kernel A on one stream at 1–3 and 6–7 ms, kernel B on another at 2–4 ms; on the host a
# jit dispatch (two nested events, as JAX records one) at 4.5 ms and a wait for the device at 8 ms.
TRACE = f"""
planes {{ id: 1 name: "/host:CPU"
  lines {{ id: 1 name: "python" timestamp_ns: 0
    {event(1, 0, 10)} {event(2, 4.5, 1.3)} {event(2, 4.6, 0.9)} {event(3, 8, 1)} {event(4, 11, 1)} }}
  {names(dream_trace.WINDOW, "PjitFunction(total)", "CommonPjRtBuffer::Await", "PjitFunction(after)")} }}
planes {{ id: 2 name: "/device:GPU:0"
  lines {{ id: 1 name: "Stream #13(compute)" timestamp_ns: 0 {event(1, 1, 2, GRADIENT)} {event(1, 6, 1, GRADIENT)} }}
  lines {{ id: 2 name: "Stream #14(compute)" timestamp_ns: 0 {event(2, 2, 2, UPDATE)} }}
  lines {{ id: 3 name: "XLA Ops" timestamp_ns: 0 {event(3, 0, 10)} }}
  {names("kernel_a", "kernel_b", "derived_op")} {STATS} }}
"""


def test_the_report_adds_up_busy_and_idle_device_time_and_names_what_the_host_did() -> None:
    report = dream_trace.summarize(jax_profiler.ProfileData.from_text_proto(TRACE))

    assert report[0] == "dream: 10.0 ms"
    assert report[1] == "device busy 4.0 ms (40%), idle 6.0 ms in 3 gaps, 3 of them over 50 µs"
    gaps = report[report.index("largest idle gaps (at ms into the dream: length; host meanwhile):") + 1 :][:3]
    assert [gap.split(";")[0].split() for gap in gaps] == [
        ["7.00:", "3.00", "ms"],
        ["4.00:", "2.00", "ms"],
        ["0.00:", "1.00", "ms"],
    ]
    assert "CommonPjRtBuffer::Await 1.00 ms" in gaps[0]
    assert "PjitFunction(total) 1.30 ms" in gaps[1]
    functions = report[report.index("device time by compiled function (kernels, ms):") + 1 :][:2]
    assert [line.split() for line in functions] == [
        ["3.00", "ms", "2×", "jit_total"],
        ["2.00", "ms", "1×", "jit__update"],
    ]
    kernels = report[report.index("kernels and copies by total time (count, ms):") + 1 :][:2]
    assert [line.split() for line in kernels] == [["3.00", "ms", "2×", "kernel_a"], ["2.00", "ms", "1×", "kernel_b"]]
    host = report[report.index("host dispatches and waits (count, ms):") + 1 :]
    assert [line.split() for line in host] == [
        ["1.30", "ms", "1×", "PjitFunction(total)"],
        ["1.00", "ms", "1×", "CommonPjRtBuffer::Await"],
    ]


# Two gradient calls of three kernels each with launch gaps between them (busy 3 ms in 4 and in 3.5 ms),
# an update call of one kernel between them.
CALLS = f"""
planes {{ id: 1 name: "/host:CPU"
  lines {{ id: 1 name: "python" timestamp_ns: 0 {event(1, 0, 10)} }}
  {names(dream_trace.WINDOW)} }}
planes {{ id: 2 name: "/device:GPU:0"
  lines {{ id: 1 name: "Stream #13(compute)" timestamp_ns: 0
    {event(1, 0, 1, GRADIENT)} {event(1, 1.5, 1, GRADIENT)} {event(1, 3, 1, GRADIENT)} {event(2, 5, 0.5, UPDATE)}
    {event(1, 6, 1, GRADIENT)} {event(1, 7, 1, GRADIENT)} {event(1, 8.5, 1, GRADIENT)} }}
  {names("kernel_a", "kernel_b")} {STATS} }}
"""


def test_the_report_says_how_busy_each_call_keeps_the_device() -> None:
    report = dream_trace.summarize(jax_profiler.ProfileData.from_text_proto(CALLS))

    heading = "per call of each compiled function (calls: kernels, device busy in the call's span):"
    per_call = report[report.index(heading) + 1 :][:2]
    assert per_call == [
        "       2× jit_total: 3 kernels, 3.000 of 3.750 ms (80%)",
        "       1× jit__update: 1 kernels, 0.500 of 0.500 ms (100%)",
    ]


def test_a_traced_dream_on_jax_reports_its_dispatches_and_keeps_the_trace(tmp_path: Path) -> None:
    environment = os.environ | {
        "PYTHONPATH": str(REPO / "server"),
        "KERAS_BACKEND": "jax",
        "JAX_COMPILATION_CACHE_DIR": str(tmp_path / "jax-cache"),
    }
    done = subprocess.run(
        [
            sys.executable,
            str(REPO / "tests/bench/dream_trace.py"),
            "--model",
            "mobilenet",
            "--size",
            "300x200",
            "--steps",
            "2",
            "--out",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        env=environment,
        timeout=600,
        check=False,
    )

    assert done.returncode == 0, done.stderr[-3000:]
    report = done.stdout.splitlines()
    assert report[0].startswith("CPU, 300x200, 3 octave(s) × 2 steps, traced: ")
    assert report[1].startswith("dream: ")
    dispatches = {line.split()[-1]: line.split()[2] for line in report if "PjitFunction(" in line}
    assert dispatches["PjitFunction(_grown)"] == "2×", report  # two octave changes, on the device
    assert (tmp_path / "out" / "trace.xplane.pb").stat().st_size > 1000


def test_a_device_clock_apart_from_the_hosts_is_said_not_hidden() -> None:
    apart = TRACE.replace(
        'name: "Stream #13(compute)" timestamp_ns: 0', 'name: "Stream #13(compute)" timestamp_ns: 5000000000'
    )
    apart = apart.replace(
        'name: "Stream #14(compute)" timestamp_ns: 0', 'name: "Stream #14(compute)" timestamp_ns: 5000000000'
    )

    report = dream_trace.summarize(jax_profiler.ProfileData.from_text_proto(apart))

    assert (
        report[1] == "none of the device's 3 kernels and copies falls inside the dream (are the planes' clocks apart?)"
    )
