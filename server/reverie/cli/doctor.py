"""``reverie doctor``: everything a dream needs, checked and explained, one ✓ or ✗ line each with the fix.

It gathers the real facts (installed packages, the device Keras finds, the configured server, GIMP 3)
and hands them to ``reverie.doctor.checks``; the exit status is 1 when something blocks a dream.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from reverie.config import ServerConfig, choose_backend, load_config
from reverie.daemon import control as daemon
from reverie.doctor import checks as doctor_checks
from reverie.doctor.checks import Check, GimpSetup
from reverie_wire.errors import ReverieError
from reverie_wire.keys import client_options

# How long the configured endpoint may take to answer hello: generous, a busy machine is no broken server.
PROBE_TIMEOUT = 3.0


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Keep TensorFlow's and XLA's start-up messages (written by C++ straight to fd 2) out of the report."""
    sys.stderr.flush()
    saved = os.dup(2)
    with open(os.devnull, "wb") as devnull:
        os.dup2(devnull.fileno(), 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _device() -> tuple[str, str] | Exception:
    """The device the server's backend would dream on (imports Keras and its backend)."""
    try:
        from reverie.engine import backends

        device = backends.backend().device()
    except Exception as error:  # any failure to load the backend is the finding, reported as such
        return error
    return device.platform, device.name


def _backend_name() -> str:
    """The Keras backend a server started from here runs on: KERAS_BACKEND, else Keras' own setting."""
    if os.environ.get("KERAS_BACKEND"):
        return os.environ["KERAS_BACKEND"]
    try:
        import keras
    except ImportError:
        return "tensorflow"  # Keras' default; the package check reports Keras missing
    return keras.config.backend()


def _facts(config: ServerConfig) -> dict[str, Any] | Exception | None:
    try:
        return daemon.probe(config.endpoint, client_options(config.keys), timeout=PROBE_TIMEOUT)
    except ReverieError as error:
        return error


def _gimp_setups() -> list[GimpSetup]:
    """Each GIMP 3 user folder found (GIMP created it on its first run), with its Python and pyzmq."""
    from reverie_install import gimp_python, locations

    candidates = locations.gimp_config_dirs(sys.platform, os.environ, Path.home())
    setups = []
    for target in candidates:
        if not Path(target.config_dir).is_dir():
            continue
        python = gimp_python.gimp_python_command(target)
        plugin_dir = Path(target.plugin_dir)
        zmq = None if python is None else doctor_checks.probe_gimp_zmq(python, plugin_dir)
        setups.append(GimpSetup(Path(target.config_dir), True, python, zmq))
    return setups or [GimpSetup(None, gimp_python.gimp3_installed(), None, None)]


def run_checks(config: ServerConfig) -> list[Check]:
    """Every check, in the order a person would fix things."""
    choose_backend(config)
    with _quiet_stderr():
        backend = _backend_name()
        device = _device()
    checks = [doctor_checks.package_check(backend)]
    checks.append(doctor_checks.device_check(backend, device, doctor_checks.nvidia_gpus()))
    checks.append(doctor_checks.weights_check(config))
    checks.append(doctor_checks.endpoint_check(config, _facts(config)))
    for setup in _gimp_setups():
        checks += doctor_checks.gimp_checks(setup)
    return checks


def report(checks: list[Check], out: TextIO) -> int:
    """Print the checks; 1 when one of them blocks a dream."""
    for check in checks:
        print(f"{'✓' if check.ok else '✗'} {check.text}", file=out)
        if not check.ok and check.fix:
            print(f"    fix: {check.fix}", file=out)
    problems = [check for check in checks if not check.ok]
    blocking = [check for check in problems if check.blocking]
    if not problems:
        print("everything a dream needs is in place", file=out)
    else:
        print(f"{len(problems)} problem(s), {len(blocking)} of them blocking a dream", file=out)
    return 1 if blocking else 0


def _run(args: argparse.Namespace) -> int:
    config = load_config(args.config).replace(endpoint=args.endpoint)
    return report(run_checks(config), sys.stdout)


def register(commands: Any) -> None:
    doctor = commands.add_parser("doctor", help="check everything a dream needs and say how to fix what is missing")
    doctor.add_argument("--endpoint", help="the server to ask (default from the config, else tcp://127.0.0.1:5555)")
    doctor.add_argument("--config", type=Path, help="TOML config file (default: the user config dir's config.toml)")
    doctor.set_defaults(func=_run)
