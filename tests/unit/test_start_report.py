"""What ``reverie start`` prints while the server loads (a fake clock; the facts as ``hello`` gives them)."""

from __future__ import annotations

import io

import pytest

from reverie.daemon.start_report import StartReport


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def loading(phase: str, done: int | None = None) -> dict[str, object]:
    download = None if done is None else {"done": done, "total": 87_910_968}
    return {"state": "loading", "phase": phase, "download": download}


def test_each_phase_is_printed_once_with_the_seconds_since_the_start() -> None:
    out, clock = io.StringIO(), Clock()
    report = StartReport(out, clock)
    clock.now += 0.6
    report.update(None)
    report.update(None)
    clock.now += 1.0
    report.update(loading("building the model"))
    clock.now += 4.2
    report.update(loading("building the model"))
    report.update(loading("warming up (compiling)"))
    assert out.getvalue().splitlines() == [
        "     1 s  starting the server process…",
        "     2 s  building the model…",
        "     6 s  warming up (compiling)…",
    ]
    assert report.elapsed() == pytest.approx(5.8)


def test_a_download_reports_its_progress_every_few_seconds() -> None:
    out, clock = io.StringIO(), Clock()
    report = StartReport(out, clock)
    phase = "downloading inception_v3's ImageNet weights (88 MB)"
    for done in (0, 10_000_000, 30_000_000, 60_000_000, 87_910_968):
        report.update(loading(phase, done))
        clock.now += 2.5
    assert out.getvalue().splitlines() == [
        f"     0 s  {phase}…",
        f"     5 s  {phase}: 30 of 88 MB",
        f"    10 s  {phase}: 88 of 88 MB",
    ]


def test_a_server_that_stops_answering_is_not_said_to_be_starting_again() -> None:
    out = io.StringIO()
    report = StartReport(out)
    report.update(loading("loading Keras"))
    report.update(None)  # it failed and is shutting down
    assert out.getvalue().splitlines() == ["     0 s  loading Keras…"]


def test_a_server_without_phases_is_waited_for_silently() -> None:
    out = io.StringIO()
    StartReport(out).update({"state": "loading"})
    assert out.getvalue() == ""
