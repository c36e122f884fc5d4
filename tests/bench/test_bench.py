"""``bench.py`` on a tiny image: the figures it prints are well formed and honest about the work done."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    environment = os.environ | {"PYTHONPATH": str(REPO / "server"), "KERAS_BACKEND": "tensorflow"}
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, env=environment, timeout=600, check=False
    )


def test_bench_compares_the_same_dream_and_ends_with_the_speedup() -> None:
    done = run(str(HERE / "bench.py"), "--model", "mobilenet", "--size", "192x160", "--rounds", "1", "--json")
    assert done.returncode == 0, done.stderr[-3000:]
    *_, figures_line, last = done.stdout.strip().splitlines()
    assert re.fullmatch(r"speedup_vs_keras_example=\d+\.\d+", last)
    figures = json.loads(figures_line)
    assert figures["steps"]["keras_example"] == figures["steps"]["reverie"] == 60
    assert set(figures["median_s"]) == {"keras_example", "keras_example_warm", "reverie"}
    assert all(seconds > 0 for seconds in figures["new_size_s"].values())
    assert set(figures["new_size_s"]) == {"keras_example_warm", "reverie"}
    assert float(last.split("=")[1]) == round(figures["speedup_vs_keras_example"], 3)
    assert figures["equivalence"]["seeded_repeat_identical"] is True
    if figures["precision"] != "float32":  # beside the reduced precision's distance, float32's own drift
        drift = figures["equivalence"]["float32_vs_float32_of_the_picture_nudged"]
        assert 0 < drift["mean_abs"] < 0.5 and drift["psnr_db"] < float("inf")
    assert figures["memory"]["peak_rss_gib"] > 0.1


def test_memory_probe_reports_its_own_peak() -> None:
    done = run(str(HERE / "probe.py"), "memory", "200x150", "--model", "mobilenet")
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["size"] == "200x150"
    assert 100 * 2**20 < report["peak_rss_bytes"] < 4 * 2**30


def test_first_request_probe_times_the_first_dreams_after_the_warm_up() -> None:
    done = run(str(HERE / "probe.py"), "first-request", "200x150", "--model", "mobilenet")
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    for name in ("first_dream", "then_another_size", "then_portrait"):
        assert report[f"{name}_s"] > 0 and report[f"{name}_traces"] >= 0
    assert report["warm_up_s"] > 0 and report["steps"] > 0


def test_throughput_times_the_steps_alone_as_well() -> None:
    done = run(
        str(HERE / "bench.py"),
        "--throughput",
        "--model",
        "mobilenet",
        "--size",
        "300x200",
        "--steps",
        "3",
        "--json",
    )
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert figures["steps"] == 3
    assert figures["size"] == "300x200"
    assert figures["steps_alone_mp_per_s"] > 0 and figures["image_mp_per_s"] > 0
    # two steps' time is less than the whole dream's three, however noisy the machine
    assert 2 * 0.06 / figures["steps_alone_mp_per_s"] < 3 * 0.06 / figures["image_mp_per_s"]
