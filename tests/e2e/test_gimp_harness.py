"""The GUI harness's xdotool driver, without GIMP: a stand-in xdotool on PATH that logs its calls and fails its
first searches as xdotool 3.20160805 does when a window vanishes mid-search, and stand-in GIMPs that hang."""

from __future__ import annotations

import subprocess
from pathlib import Path

import gimp_harness
import pytest
from gimp_harness import COMMAND_STEP, driver_script

# Logs each call; a search fails (BadWindow) until the FAIL_SEARCHES-th, then prints two windows.
FAKE_XDOTOOL = """#!/bin/sh
echo "xdotool $*" >> "$CALLS"
if [ "$1" = search ]; then
    n=$(grep -c '^xdotool search' "$CALLS")
    if [ "$n" -le "$FAIL_SEARCHES" ]; then
        echo 'X Error of failed request:  BadWindow (invalid Window parameter)' >&2
        exit 1
    fi
    printf '111\\n222\\n'
fi
"""


def play(tmp_path: Path, steps: list[tuple[str, str]], fail_searches: int) -> tuple[subprocess.CompletedProcess, str]:
    """Runs the driver for ``steps`` with the stand-in xdotool; its result and the xdotool calls made."""
    (tmp_path / "bin").mkdir()
    fake = tmp_path / "bin" / "xdotool"
    fake.write_text(FAKE_XDOTOOL)
    fake.chmod(0o755)
    calls = tmp_path / "calls"
    calls.touch()
    env = {"PATH": f"{tmp_path / 'bin'}:/usr/bin:/bin", "CALLS": str(calls), "FAIL_SEARCHES": str(fail_searches)}
    completed = subprocess.run(
        ["sh", "-c", driver_script(steps)], env=env, capture_output=True, text=True, check=False, timeout=60
    )
    return completed, calls.read_text()


def test_a_step_waits_for_a_window_on_screen_and_presses_keys_on_the_first(tmp_path: Path) -> None:
    completed, calls = play(tmp_path, [("^Deep Dream$", "alt+o")], fail_searches=0)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert calls.splitlines() == [
        "xdotool search --sync --onlyvisible --name ^Deep Dream$",
        "xdotool windowfocus --sync 111 key alt+o",
    ]
    assert completed.stdout.splitlines()[1:] == ["window 111 of 111 222", "all 1 steps played"]


def test_a_search_lost_to_a_vanished_window_searches_again(tmp_path: Path) -> None:
    completed, calls = play(tmp_path, [("^Deep Dream$", "alt+o")], fail_searches=gimp_harness.SEARCH_TRIES - 1)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert calls.count("xdotool search") == gimp_harness.SEARCH_TRIES
    assert calls.splitlines()[-1] == "xdotool windowfocus --sync 111 key alt+o"
    assert completed.stderr.count("searching again") == gimp_harness.SEARCH_TRIES - 1


def test_a_step_that_fails_stops_the_driver_and_says_which(tmp_path: Path) -> None:
    steps = [(COMMAND_STEP, "true"), ("^Deep Dream$", "alt+o"), ("dreamed", "ctrl+z")]
    completed, calls = play(tmp_path, steps, fail_searches=gimp_harness.SEARCH_TRIES)
    assert completed.returncode == 1
    assert "windowfocus" not in calls and calls.count("xdotool search") == gimp_harness.SEARCH_TRIES
    lines = completed.stdout.splitlines()
    expected = "step 2/3: wait for a window named '^Deep Dream$' on screen, focus it and press alt+o"
    assert lines[-2:] == [expected, "step 2 failed (exit 1)"]


def test_a_failed_driver_stops_gimp_at_once_with_its_output(tmp_path: Path) -> None:
    trace = tmp_path / "driver.log"
    trace.write_text("step 1/1: wait for a window\nX Error of failed request:  BadMatch\nstep 1 failed (exit 1)\n")
    driver = subprocess.Popen(["false"])
    with pytest.raises(AssertionError, match=r"(?s)GIMP was stopped: a step failed.*exited with 1.*BadMatch"):
        gimp_harness._wait_beside(["sleep", "600"], driver, trace)


def test_a_hang_says_what_the_driver_waits_for(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gimp_harness, "BATCH_TIMEOUT", 2)
    trace = tmp_path / "driver.log"
    trace.write_text("step 1/1: wait for a window named '^Deep Dream$' on screen, focus it and press alt+o\n")
    # The stand-in GIMP says something, then waits on a child (a plug-in with its dialog) that holds its output
    # open: the wait ends (rather than raising TimeoutExpired) only when GIMP is stopped with its children.
    gimp = ["sh", "-c", "echo dialog shown; sleep 600 & wait"]
    driver = subprocess.Popen(["sleep", "600"])
    try:
        with pytest.raises(AssertionError) as failure:
            gimp_harness._wait_beside(gimp, driver, trace)
    finally:
        driver.kill()
        driver.wait()
    message = str(failure.value)
    assert "did not finish within 2 s; the xdotool driver is still running" in message
    assert "press alt+o" in message and "dialog shown" in message
