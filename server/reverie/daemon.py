"""Running the server in the background: start, stop, status and logs, with a pid file per endpoint.

Nothing here imports TensorFlow: ``reverie status`` must answer in a blink. The background server is
``python -m reverie.cli_server serve``, its output appended to the log file.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from reverie import logfiles
from reverie.client import ClientError, DreamClient, ServerNotRunning
from reverie.config import log_path, pid_path
from reverie.start_report import StartReport

# How long ``start`` waits for the model to load and the server to say ``ready``.
START_TIMEOUT = 300.0
# How long ``stop`` waits after SIGTERM (the server promises to exit within 3 s).
STOP_TIMEOUT = 5.0
# How long a server that accepted the connection may take to answer hello (it may be loading its model).
ANSWER_TIMEOUT = 5.0
# Between two looks at a server that is starting.
START_POLL = 0.5


def probe(endpoint: str, client_options: dict[str, Any]) -> dict[str, Any] | None:
    """The server's facts if one answers at ``endpoint``, else None: at once when nothing listens there,
    after ``ANSWER_TIMEOUT`` when something listens but does not answer."""
    with DreamClient(endpoint, timeout=ANSWER_TIMEOUT, retries=1, **client_options) as client:
        try:
            return client.probe()
        except ServerNotRunning:
            return None


def write_pid(path: Path, pid: int) -> None:
    """Write atomically, so a concurrent reader never sees half a number."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(f".{os.getpid()}.tmp")
    temporary.write_text(f"{pid}\n", encoding="ascii")
    temporary.replace(path)


def remove_pid(path: Path, pid: int) -> None:
    """Remove the pid file if it still names ``pid`` (a newer server may have replaced it)."""
    if read_pid(path) == pid:
        path.unlink(missing_ok=True)


def read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text(encoding="ascii").strip())
    except FileNotFoundError:
        return None
    except (ValueError, UnicodeDecodeError):
        return -1  # garbage: treated as stale


def is_running(pid: int) -> bool:
    """Whether ``pid`` is a live Reverie process (a recycled pid or a zombie is not)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive, and not ours
        return True
    cmdline = Path(f"/proc/{pid}/cmdline")
    if cmdline.exists():  # Linux: make sure a recycled pid is not mistaken for the server
        try:
            return b"reverie" in cmdline.read_bytes()
        except OSError:
            return False
    return True


def running_pid(endpoint: str, out: TextIO) -> int | None:
    """The pid of the server this user started for ``endpoint``; a stale pid file is removed."""
    path = pid_path(endpoint)
    pid = read_pid(path)
    if pid is None:
        return None
    if is_running(pid):
        return pid
    path.unlink(missing_ok=True)
    print(f"removed a stale pid file ({path}: process {pid} is gone)", file=out)
    return None


def _wait_exit(pid: int, timeout: float) -> bool:
    """Whether ``pid`` exited within ``timeout`` (waits on a pidfd where the OS has them)."""
    deadline = time.monotonic() + timeout
    if hasattr(os, "pidfd_open"):
        try:
            fd = os.pidfd_open(pid)
        except ProcessLookupError:
            return True
        try:
            ready, _, _ = select.select([fd], [], [], timeout)
        finally:
            os.close(fd)
        return bool(ready) or not is_running(pid)
    while is_running(pid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True


_BACKEND_NAMES = {"tensorflow": "TensorFlow", "jax": "JAX"}


def _backend(facts: dict[str, Any]) -> str:
    """Keras' backend and its version, as a person reads them (not known while the model loads)."""
    backend = facts.get("backend")  # absent from servers older than this field
    if backend is None:
        return "a backend not loaded yet"
    return f"{_BACKEND_NAMES.get(backend, backend)} {facts.get('backend_version')}"


def describe(facts: dict[str, Any]) -> str:
    """``reverie status`` for a person."""
    limits = facts["limits"]
    uptime = int(facts["uptime"])
    device = facts["device"] or "a device still loading"
    done, cancelled, failed = facts["jobs_done"], facts["jobs_cancelled"], facts["jobs_failed"]
    return "\n".join(
        [
            f"Reverie dream server {facts['version']} at {facts['endpoint']} "
            f"(pid {facts['pid']}): {facts['state']}"
            + (f" ({facts['phase']})" if facts.get("phase") else "")
            + (", encrypted" if facts.get("encrypted") else ""),
            f"  model {facts['model']} ({facts['weights']} weights) on {device}",
            f"  Keras {facts['keras']} on {_backend(facts)}, protocol {facts['protocol']}",
            f"  up {uptime // 3600} h {uptime // 60 % 60} min {uptime % 60} s; "
            f"jobs done {done}, cancelled {cancelled}, failed {failed}",
            f"  queue {facts['queue']} of {limits['max_queue']}, running: {facts['running'] or 'nothing'}",
            f"  limits {limits['max_pixels'] / 1e6:.1f} megapixels, {limits['max_side']} px a side",
            *([f"  exits after {facts['idle_exit'] / 60:g} min without requests"] if facts.get("idle_exit") else []),
        ]
    )


def start(
    endpoint: str,
    serve_args: Sequence[str],
    client_options: dict[str, Any],
    out: TextIO,
    timeout: float = START_TIMEOUT,
) -> int:
    """Start a background server and return once it answers ``ready``; report one already running."""
    pid = running_pid(endpoint, out)
    facts = probe(endpoint, client_options)
    if facts is not None or pid is not None:
        where = f"pid {facts['pid'] if facts else pid}"
        print(
            f"a Reverie dream server is already running at {endpoint} ({where}); `reverie status` for more",
            file=out,
        )
        return 0
    log = log_path(endpoint)
    log.parent.mkdir(parents=True, exist_ok=True)
    pid_file = pid_path(endpoint)
    command = [
        sys.executable,
        "-m",
        "reverie.cli_server",
        "serve",
        "--endpoint",
        endpoint,
        "--pid-file",
        str(pid_file),
        "--log-file",
        str(log),
        *serve_args,
    ]
    with open(log, "ab") as log_file:
        child = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    write_pid(pid_file, child.pid)
    print(f"starting the Reverie dream server at {endpoint} (pid {child.pid}); log: {log}", file=out, flush=True)
    report = StartReport(out)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child.poll() is not None:
            remove_pid(pid_file, child.pid)
            print(
                f"the dream server exited (code {child.returncode}) before it was ready; its log ({log}):\n"
                f"{logfiles.tail(log, 20)}",
                file=out,
            )
            return 1
        facts = probe(endpoint, client_options)
        if facts is not None and facts["state"] == "ready":
            print(
                f"started the Reverie dream server at {endpoint} (pid {child.pid}) in {report.elapsed():.0f} s; "
                f"{facts['model']} on {facts['device']}",
                file=out,
            )
            return 0
        report.update(facts)
        with contextlib.suppress(subprocess.TimeoutExpired):  # not listening yet, or loading: wait on the child
            child.wait(START_POLL)
    print(
        f"the dream server did not become ready within {timeout:.0f} s; it is still starting "
        f"(pid {child.pid}); see {log}",
        file=out,
    )
    return 1


def stop(endpoint: str, client_options: dict[str, Any], out: TextIO, timeout: float = STOP_TIMEOUT) -> int:
    """SIGTERM the server for ``endpoint`` (its running job is answered ``cancelled``) and wait for it."""
    pid = running_pid(endpoint, out)
    if pid is None:
        facts = probe(endpoint, client_options)
        if facts is None:
            print(f"no Reverie dream server is running at {endpoint}", file=out)
            return 0
        if not is_running(int(facts["pid"])):
            print(
                f"the server at {endpoint} (pid {facts['pid']}) is not a process of this machine and user; "
                "stop it where it runs",
                file=out,
            )
            return 1
        pid = int(facts["pid"])
    asked = time.monotonic()
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    if not _wait_exit(pid, timeout):
        print(
            f"the dream server (pid {pid}) did not stop within {timeout:.0f} s; `kill -9 {pid}` ends it",
            file=out,
        )
        return 1
    remove_pid(pid_path(endpoint), pid)
    print(f"stopped the Reverie dream server at {endpoint} (pid {pid}) in {time.monotonic() - asked:.1f} s", file=out)
    return 0


def status(endpoint: str, client_options: dict[str, Any], out: TextIO) -> tuple[int, dict[str, Any] | None]:
    """(0, facts) when a server answers; (3, None) when none does, as LSB status commands do."""
    running_pid(endpoint, out)
    try:
        facts = probe(endpoint, client_options)
    except ClientError as error:
        print(f"a server at {endpoint} did not let us in: {error}", file=out)
        return 1, None
    if facts is None:
        print(f"no Reverie dream server is running at {endpoint}; `reverie start` starts one", file=out)
        return 3, None
    return 0, facts


def logs(endpoint: str, lines: int, follow: bool, out: TextIO) -> int:
    """Print the end of the server's log; with ``follow``, keep printing until interrupted."""
    path = log_path(endpoint)
    if not path.exists():
        print(f"no log yet at {path} (logs exist for servers started with `reverie start`)", file=out)
        return 1
    end = path.stat().st_size  # what comes after it is followed
    print(logfiles.tail(path, lines, end), file=out, flush=True)
    if follow:
        logfiles.follow(path, out, end)
    return 0
