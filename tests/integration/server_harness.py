"""Real dream server processes on loopback (MobileNet, random weights) for the integration tests."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from reverie_wire.client import DreamClient
from reverie_wire.errors import ServerNotRunning

READY_TIMEOUT = 120.0
MODEL_ARGS = ("--model", "mobilenet", "--weights", "random")
# A dream small enough for a 2-core CI box: one octave, two steps.
TINY = {"model": "mobilenet", "octaves": 1, "steps": 2, "jitter": 8}
# A dream that runs until it is cancelled.
ENDLESS = {"model": "mobilenet", "octaves": 1, "steps": 1000, "max_loss": None}
# A client that starts an endless job, says its id once the job runs, then waits to be killed.
KILLED_CLIENT = """
import sys
from reverie_wire.client import DreamClient
client = DreamClient(sys.argv[1])
job = client.submit(bytes(160 * 120 * 4), width=160, height=120, channels=4, dtype="u8",
                    params={"model": "mobilenet", "octaves": 1, "steps": 1000, "max_loss": None})
next(client.events(job))
print(job, flush=True)
sys.stdin.read()
"""
DTYPES = {"u8": np.uint8, "u16": np.uint16, "f32": np.float32}


def free_endpoint() -> str:
    """A loopback TCP endpoint on a port that was free a moment ago."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"tcp://127.0.0.1:{probe.getsockname()[1]}"


def user_env(home: Path) -> dict[str, str]:
    """The environment of a new user whose config, state and logs live under ``home``."""
    return dict(
        os.environ,
        XDG_CONFIG_HOME=str(home / "config"),
        XDG_STATE_HOME=str(home / "state"),
        TF_CPP_MIN_LOG_LEVEL="2",
    )


def reverie(*args: str, env: dict[str, str], timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """Run a server subcommand as a person would type it."""
    command = [sys.executable, "-m", "reverie.cli", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout, check=False)


def image(width: int, height: int, channels: int = 4, dtype: str = "u8", seed: int = 0) -> np.ndarray:
    """Random pixels of a given layout."""
    rng = np.random.default_rng(seed)
    if dtype == "f32":
        return rng.random((height, width, channels), dtype=np.float32)
    top = np.iinfo(DTYPES[dtype]).max
    return rng.integers(0, top, size=(height, width, channels), endpoint=True).astype(DTYPES[dtype])


def layout(pixels: np.ndarray) -> dict[str, Any]:
    """``submit``'s keyword arguments for an array."""
    name = {np.dtype(v): k for k, v in DTYPES.items()}[pixels.dtype]
    height, width, channels = pixels.shape
    return {"width": width, "height": height, "channels": channels, "dtype": name}


def in_parallel(work: Callable[[int], None], count: int, timeout: float = 120) -> None:
    """Run ``work(0)`` … ``work(count - 1)`` on threads at once; the first failure is raised here."""
    with ThreadPoolExecutor(count) as pool:
        list(pool.map(work, range(count), timeout=timeout))


def wait_ready(
    endpoint: str,
    process: subprocess.Popen | None = None,
    log: Path | None = None,
    timeout: float = READY_TIMEOUT,
    **client_options: Any,
) -> dict[str, Any]:
    """The server's facts once it has loaded its model; fails at once if its process exits."""
    deadline = time.monotonic() + timeout
    with DreamClient(endpoint, timeout=0.5, retries=1, **client_options) as client:
        while time.monotonic() < deadline:
            if process is not None and process.poll() is not None:
                raise AssertionError(f"the server exited with {process.returncode}:\n{log and log.read_text()}")
            try:
                facts = client.hello()
            except ServerNotRunning:
                continue
            if facts["state"] == "ready":
                return facts
            if process is not None:  # loading: wait on the process rather than spin
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(0.2)
    raise AssertionError(f"no server was ready at {endpoint} within {timeout:.0f} s")


@dataclass
class Server:
    """A ``reverie serve`` child process."""

    endpoint: str
    process: subprocess.Popen
    log: Path

    def client(self, **options: Any) -> DreamClient:
        return DreamClient(self.endpoint, **options)

    def facts(self) -> dict[str, Any]:
        with self.client(timeout=2.0, retries=1) as client:
            return client.hello()

    def stop(self) -> int:
        """SIGTERM and the exit code (killed, and a failure, if it does not stop in 10 s)."""
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"the server ignored SIGTERM:\n{self.log.read_text()}") from None


def start_server(
    home: Path,
    *args: str,
    endpoint: str | None = None,
    env: dict[str, str] | None = None,
    wait: bool = True,
    client_options: dict[str, Any] | None = None,
) -> Server:
    """Start ``reverie serve`` with MobileNet and random weights and (unless ``wait`` is False) wait until ready."""
    endpoint = endpoint or free_endpoint()
    home.mkdir(parents=True, exist_ok=True)
    log = home / f"server-{re.sub(r'[^A-Za-z0-9]+', '-', endpoint.rsplit('/', 1)[-1])}.log"
    command = [sys.executable, "-m", "reverie.cli.server", "serve", "--endpoint", endpoint, *MODEL_ARGS, *args]
    with open(log, "wb") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, env=env or user_env(home))
    server = Server(endpoint, process, log)
    if not wait:
        return server
    try:
        wait_ready(endpoint, process, log, **(client_options or {}))
    except BaseException:
        if process.poll() is None:
            process.kill()
            process.wait()
        raise
    return server
