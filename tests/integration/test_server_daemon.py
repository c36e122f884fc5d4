"""``reverie start / status / stop / logs`` as a new user would type them, stale pid file and double start included."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from server_harness import ENDLESS, MODEL_ARGS, free_endpoint, image, layout, reverie, user_env

from reverie.daemon.control import is_running, read_pid
from reverie_wire.client import Cancelled, DreamClient, Progress


def pid_file(home: Path, endpoint: str) -> Path:
    return home / "state" / "reverie" / f"server-{re.sub(r'[^A-Za-z0-9.]+', '-', endpoint).strip('-')}.pid"


def dead_pid() -> int:
    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()
    return finished.pid


def test_start_status_logs_stop_with_a_stale_pid_file_and_a_double_start(tmp_path: Path) -> None:
    env, endpoint = user_env(tmp_path), free_endpoint()
    where = ("--endpoint", endpoint)
    stale = pid_file(tmp_path, endpoint)
    stale.parent.mkdir(parents=True)
    stale.write_text(f"{dead_pid()}\n")

    status = reverie("status", *where, env=env)
    assert status.returncode == 3, status
    assert "stale pid file" in status.stdout and "reverie start" in status.stdout
    assert not stale.exists()

    stale.write_text("not a pid\n")
    started = reverie("start", *where, *MODEL_ARGS, env=env)
    assert started.returncode == 0, started
    assert "stale pid file" in started.stdout and "started the Reverie dream server" in started.stdout
    # What it waited for, as the server reported it, with the seconds since the start: in order, and at least
    # the seconds of importing Keras (the shorter phases may fall between two looks).
    phases = re.findall(r"^ +\d+ s  (.*)…$", started.stdout, re.M)
    order = ["starting the server process", "loading Keras", "building the model", "warming up (compiling)"]
    assert "loading Keras" in phases and phases == [phase for phase in order if phase in phases], started.stdout
    pid = read_pid(stale)
    assert is_running(pid)
    try:
        again = reverie("start", *where, *MODEL_ARGS, env=env)
        assert again.returncode == 0, again
        assert "already running" in again.stdout and f"pid {pid}" in again.stdout
        assert read_pid(stale) == pid

        status = reverie("status", *where, env=env)
        assert status.returncode == 0, status
        assert f"(pid {pid}): ready" in status.stdout and "mobilenet (random weights) on CPU" in status.stdout
        assert re.search(r"Keras \S+ on TensorFlow \S+, protocol 1", status.stdout), status.stdout
        assert "jobs done 0" in status.stdout
        facts = json.loads(reverie("status", "--json", *where, env=env).stdout)
        assert facts["pid"] == pid and facts["uptime"] > 0 and facts["queue"] == 0

        logs = reverie("logs", *where, env=env)
        assert logs.returncode == 0 and "listening on " + endpoint in logs.stdout

        with DreamClient(endpoint) as client:
            pixels = image(160, 120, 4, "u8")
            job = client.submit(pixels.tobytes(), params=ENDLESS, **layout(pixels))
            events = client.events(job)
            assert isinstance(next(events), Progress)
            stopped = reverie("stop", *where, env=env)
            assert stopped.returncode == 0, stopped
            assert list(events)[-1] == Cancelled(job), "SIGTERM must answer the running job 'cancelled'"
    finally:
        if is_running(pid):
            subprocess.run(["kill", "-9", str(pid)], check=False)
    seconds = float(re.search(r"in ([0-9.]+) s", stopped.stdout).group(1))
    assert seconds < 3.0, stopped.stdout
    assert not is_running(pid) and not stale.exists()
    assert reverie("status", *where, env=env).returncode == 3
    assert "stopped after" in reverie("logs", *where, env=env).stdout


def test_stop_and_logs_without_a_server_say_so(tmp_path: Path) -> None:
    env, endpoint = user_env(tmp_path), free_endpoint()
    stopped = reverie("stop", "--endpoint", endpoint, env=env)
    assert stopped.returncode == 0 and "no Reverie dream server is running" in stopped.stdout
    logs = reverie("logs", "--endpoint", endpoint, env=env)
    assert logs.returncode == 1 and "no log yet" in logs.stdout


def test_a_server_that_cannot_load_its_model_fails_to_start_with_its_reason(tmp_path: Path) -> None:
    env, endpoint = user_env(tmp_path), free_endpoint()
    missing = tmp_path / "nowhere.h5"
    started = reverie("start", "--endpoint", endpoint, "--model", "mobilenet", "--weights", str(missing), env=env)
    assert started.returncode == 1, started
    assert "before it was ready" in started.stdout and str(missing) in started.stdout
    assert not pid_file(tmp_path, endpoint).exists()


def test_a_config_mistake_is_a_usage_error(tmp_path: Path) -> None:
    env = user_env(tmp_path)
    config = tmp_path / "config" / "reverie" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text("[server]\nport = 5555\n")
    status = reverie("status", env=env)
    assert status.returncode == 1 and "unknown setting(s) port" in status.stderr
