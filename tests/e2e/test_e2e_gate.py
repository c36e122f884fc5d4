"""Without GIMP the e2e tests skip with the reason, except under CI, where they must fail."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def run_without_gimp(ci: str | None) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key != "CI"}
    env.update({"PATH": "", "REVERIE_GIMP_ROOT": "/nonexistent/reverie-gimp"})
    if ci is not None:
        env["CI"] = ci
    test = "tests/e2e/test_plugin_e2e.py::test_registered_with_menu_and_arguments"
    command = [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", test]
    return subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, check=False, timeout=120)


def test_skips_with_the_reason_outside_ci() -> None:
    completed = run_without_gimp(None)
    assert completed.returncode == 0, completed.stdout
    assert "1 skipped" in completed.stdout
    assert "provide_gimp.sh" in completed.stdout


@pytest.mark.parametrize("ci", ["true", "1"])
def test_fails_under_ci(ci: str) -> None:
    completed = run_without_gimp(ci)
    assert completed.returncode != 0
    assert "CI must run the GIMP e2e tests" in completed.stdout
