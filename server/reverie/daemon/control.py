"""Running the server in the background: start, stop, status and logs, with a pid file per endpoint.

Nothing here imports TensorFlow: ``reverie status`` must answer in a blink. The background server is
``python -m reverie.cli.server serve``, its output appended to the log file.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import select
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from reverie.config import BACKEND_NAMES, log_path, pid_path
from reverie.daemon import logfiles
from reverie.daemon.start_report import StartReport
from reverie_wire.client import DreamClient
from reverie_wire.config import START_TIMEOUT
from reverie_wire.errors import ReverieError, ServerNotRunning

# How long ``stop`` waits after SIGTERM (the server promises to exit within 3 s).
STOP_TIMEOUT = 5.0
# How long a server that accepted the connection may take to answer hello (it may be loading its model).
ANSWER_TIMEOUT = 5.0
# Between two looks at a server that is starting.
START_POLL = 0.5
# The secret ``start`` gives the server it launches (in its environment, which only its user can read) and writes
# beside its pid: a pid file naming any other process is not believed.
TOKEN_VARIABLE = "REVERIE_PID_TOKEN"


def probe(endpoint: str, client_options: dict[str, Any], timeout: float = ANSWER_TIMEOUT) -> dict[str, Any] | None:
    """The server's facts if one answers at ``endpoint``, else None: at once when nothing listens there,
    after ``ANSWER_TIMEOUT`` when something listens but does not answer."""
    with DreamClient(endpoint, timeout=timeout, retries=1, **client_options) as client:
        try:
            return client.probe()
        except ServerNotRunning:
            return None


def private_dir(path: Path) -> Path:
    """``path``, made if missing, readable only by this user (pid files and logs say what the server does)."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.stat().st_mode & 0o077:
        path.chmod(0o700)
    return path


def write_pid(path: Path, pid: int, token: str | None = None) -> None:
    """Write atomically (a concurrent reader never sees half a number), readable only by this user."""
    private_dir(path.parent)
    temporary = path.with_suffix(f".{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as file:
        file.write(f"{pid} {token}\n" if token else f"{pid}\n")
    temporary.replace(path)


def remove_pid(path: Path, pid: int) -> None:
    """Remove the pid file if it still names ``pid`` (a newer server may have replaced it)."""
    if read_pid(path) == pid:
        path.unlink(missing_ok=True)


def read_pid(path: Path) -> int | None:
    return read_pid_file(path)[0]


def read_pid_file(path: Path) -> tuple[int | None, str | None]:
    """The pid and the token ``start`` wrote beside it, from one read (None: no file, or no token)."""
    try:
        fields = path.read_text(encoding="ascii").split()
        return int(fields[0]), fields[1] if len(fields) > 1 else None
    except FileNotFoundError:
        return None, None
    except (ValueError, IndexError, UnicodeDecodeError):
        return -1, None  # garbage: treated as stale


def is_our_server(pid: int, endpoint: str, token: str | None) -> bool:
    """Whether ``pid`` is a Reverie server this user runs for ``endpoint`` (with ``token``, the one ``start`` launched):
    its owner, its command line and its environment are checked, where the OS shows them (Linux)."""
    if not is_running(pid):
        return False
    proc = Path(f"/proc/{pid}")
    if not proc.exists():
        return True  # no /proc: is_running's signal check is all there is
    try:
        if proc.stat().st_uid != os.getuid():
            return False
        arguments = (proc / "cmdline").read_bytes().split(b"\0")
        if b"serve" not in arguments or endpoint.encode() not in arguments:
            return False
        return token is None or f"{TOKEN_VARIABLE}={token}".encode() in (proc / "environ").read_bytes().split(b"\0")
    except OSError:
        return False


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
    """The pid of the server this user started for ``endpoint``; a pid file naming anything else is removed."""
    path = pid_path(endpoint)
    pid, token = read_pid_file(path)
    if pid is None:
        return None
    if is_our_server(pid, endpoint, token):
        return pid
    path.unlink(missing_ok=True)
    why = "is not a Reverie server of yours" if pid > 0 and Path(f"/proc/{pid}").exists() else "is gone"
    print(f"removed a stale pid file ({path}: process {pid} {why})", file=out)
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


def _backend(facts: dict[str, Any]) -> str:
    """Keras' backend and its version, as a person reads them (not known while the model loads)."""
    backend = facts.get("backend")  # absent from servers older than this field
    if backend is None:
        return "a backend not loaded yet"
    return f"{BACKEND_NAMES.get(backend, backend)} {facts.get('backend_version')}"


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
            *_dreamers(facts),
        ]
    )


def _dreamers(facts: dict[str, Any]) -> list[str]:
    """A cluster front's dreamers, one line each (a single server has none)."""
    if "cluster" not in facts:
        return []
    lines = [f"  Ray cluster at {facts['cluster']}, {len(facts['dreamers'])} dreamers:"]
    for each in facts["dreamers"]:
        doing = f"running {each['running']}" if each["running"] else each["state"]
        where = f"{each['host'] or '?'} ({each['device'] or '?'})"
        lines.append(f"    {each['name']} on {where}: {doing}, {each['jobs_done']} done")
    return lines


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
    if facts is not None and pid is None and not is_our_server(int(facts.get("pid", -1)), endpoint, None):
        print(
            f"something else answers at {endpoint} (it says pid {facts.get('pid')}, which is not a Reverie server "
            "of yours); nothing was started. Choose another endpoint (an ipc:// one in a folder only you can "
            "enter is private) or find out what listens there",
            file=out,
        )
        return 1
    if facts is not None or pid is not None:
        where = f"pid {facts['pid'] if facts else pid}"
        print(
            f"a Reverie dream server is already running at {endpoint} ({where}); `reverie status` for more",
            file=out,
        )
        return 0
    log = log_path(endpoint)
    private_dir(log.parent)
    pid_file = pid_path(endpoint)
    token = secrets.token_hex(16)
    command = [
        sys.executable,
        "-m",
        "reverie.cli.server",
        "serve",
        "--endpoint",
        endpoint,
        "--pid-file",
        str(pid_file),
        "--log-file",
        str(log),
        *serve_args,
    ]
    with os.fdopen(os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600), "ab") as log_file:
        os.fchmod(log_file.fileno(), 0o600)  # a log made before this rule was readable by everyone
        child = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, TOKEN_VARIABLE: token},
        )
    write_pid(pid_file, child.pid, token)
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
        if not is_our_server(int(facts["pid"]), endpoint, None):
            print(
                f"the server at {endpoint} (pid {facts['pid']}) is not a Reverie server of this user on this "
                "machine; nothing was stopped. Stop it where it runs",
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
    except ReverieError as error:
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
