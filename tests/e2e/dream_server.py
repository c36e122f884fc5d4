"""The host's real dream server for the e2e tests: how to run ``reverie`` and wait until it answers."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from reverie_wire.client import DreamClient
from reverie_wire.errors import ServerNotRunning

# The host's ``reverie`` command (its console script runs reverie.cli:main), from the tests' environment.
REVERIE = [sys.executable, "-m", "reverie.cli"]
# Small and fast: MobileNet with random weights is all an e2e test needs to see pixels travel.
SERVER_FLAGS = ["--model", "mobilenet", "--weights", "random"]
READY_TIMEOUT = 120.0


def free_endpoint() -> str:
    """A loopback endpoint on a port nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"tcp://127.0.0.1:{probe.getsockname()[1]}"


def wait_until_ready(endpoint: str, process: subprocess.Popen, log: Path, **client_options: Any) -> None:
    """Block until the server answers hello (each try waits up to a second for the answer)."""
    deadline = time.monotonic() + READY_TIMEOUT
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"the dream server exited with {process.returncode}:\n{log.read_text()[-4000:]}")
        with DreamClient(endpoint, timeout=1.0, retries=1, **client_options) as client:
            try:
                client.hello()
                return
            except ServerNotRunning:
                if time.monotonic() > deadline:
                    raise


@contextmanager
def serving(log: Path, *arguments: str, **client_options: Any) -> Iterator[str]:
    """A real dream server (``reverie serve`` with ``arguments``) on a free loopback endpoint, its output in
    ``log``; yields the endpoint once it answers hello (with ``client_options``), and stops it afterwards."""
    address = free_endpoint()
    with log.open("w") as output:
        process = subprocess.Popen(
            [*REVERIE, "serve", "--endpoint", address, *arguments], stdout=output, stderr=subprocess.STDOUT
        )
    try:
        wait_until_ready(address, process, log, **client_options)
        yield address
    finally:
        process.terminate()
        process.wait(timeout=30)


def facts(endpoint: str) -> dict:
    """The server's hello facts (state, running job, counts)."""
    with DreamClient(endpoint, timeout=5.0, retries=1) as client:
        return client.hello()


def wait_for(condition: Callable[[], bool], timeout: float = 60.0, interval: float = 0.05) -> None:
    """Poll ``condition`` (a real observation, e.g. the server's facts) until it holds; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout:g} s for {condition.__doc__ or condition}")
        time.sleep(interval)
