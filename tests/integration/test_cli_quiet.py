"""A quiet command line: TensorFlow's, XLA's and absl's own start-up lines reach neither the terminal of
``reverie dream`` (unless ``--verbose``) nor the server's log above DEBUG."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from server_harness import free_endpoint

# absl's prefix: severity, date, time, thread, file:line; the message follows it.
ABSL_PREFIX = re.compile(r"^[IWEF]\d{4} \d\d:\d\d:\d+\.\d+ +\d+ \S+:\d+\] ")
DREAM = ["--local", "--model", "mobilenet", "--weights", "random", "--octaves", "1", "--steps", "2", "--seed", "3"]


def messages(stderr: str) -> set[str]:
    """Lines without what changes between runs (absl's time and thread)."""
    return {ABSL_PREFIX.sub("", line).strip() for line in stderr.splitlines() if line.strip()}


@pytest.fixture(scope="module")
def env() -> dict[str, str]:
    """A user's environment on the TensorFlow backend (which has the start-up lines to hide)."""
    clean = {name: value for name, value in os.environ.items() if name != "TF_CPP_MIN_LOG_LEVEL"}
    return {**clean, "KERAS_BACKEND": "tensorflow"}


@pytest.fixture(scope="module")
def startup_lines(env: dict[str, str]) -> set[str]:
    """What the frameworks print as they start on this machine, as ``reverie`` lets TensorFlow see it."""
    probe = "import keras, tensorflow as tf; tf.config.list_physical_devices()"
    run = subprocess.run(
        [sys.executable, "-c", probe], env={**env, "TF_CPP_MIN_LOG_LEVEL": "2"}, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    if not run.stderr.strip():
        pytest.skip("TensorFlow prints nothing as it starts here")
    return messages(run.stderr)


@pytest.fixture
def picture(tmp_path: Path) -> Path:
    pixels = np.random.default_rng(0).integers(0, 256, (64, 80, 3), dtype=np.uint8)
    path = tmp_path / "in.png"
    Image.fromarray(pixels).save(path)
    return path


def dream(picture: Path, env: dict[str, str], *extra: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "reverie.cli", "dream", str(picture), "-o", str(picture.with_name("out.png"))]
    run = subprocess.run([*command, *DREAM, *extra], env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "seed 3" in run.stdout
    return run


def test_dream_shows_only_reverie_s_own_lines(picture: Path, env: dict[str, str], startup_lines: set[str]) -> None:
    run = dream(picture, env)
    lines = run.stderr.splitlines()
    # 80×64 is under MobileNet's smallest input: Reverie says so, and says nothing else.
    assert lines and all(line.startswith("reverie: note: ") for line in lines), run.stderr
    assert not messages(run.stderr) & startup_lines


def test_verbose_shows_the_frameworks_start_up_lines(
    picture: Path, env: dict[str, str], startup_lines: set[str]
) -> None:
    run = dream(picture, env, "--verbose")
    assert startup_lines <= messages(run.stderr), run.stderr
    assert any(line.startswith("reverie: note: ") for line in run.stderr.splitlines())


def test_the_server_logs_them_at_debug(tmp_path: Path, env: dict[str, str], startup_lines: set[str]) -> None:
    """A server that loaded its model and stopped: its log has the start-up lines as DEBUG records only."""
    log_file = tmp_path / "server.log"
    serve = [sys.executable, "-m", "reverie.cli.server", "serve", "--endpoint", free_endpoint()]
    serve += ["--model", "mobilenet", "--weights", "random", "--idle-exit", "1s", "--log-file", str(log_file)]
    for level in ("DEBUG", "INFO"):
        log_file.unlink(missing_ok=True)
        run = subprocess.run([*serve, "--log-level", level], env=env, capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, run.stderr
        log = log_file.read_text()
        assert "no requests for 1 s: exiting" in log, log
        raw = [line for line in log.splitlines() if any(message in line for message in startup_lines)]
        if level == "DEBUG":
            assert raw and all(" DEBUG reverie.frameworks: " in line for line in raw), log
        else:
            assert not raw, log
