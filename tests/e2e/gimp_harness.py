"""Running a real GIMP 3 headless for the e2e tests: natively, or inside the cached Debian 13 chroot.

GIMP inside a chroot sees only the chroot's files, so every folder a test shares with GIMP lives
under the chroot's /tmp; ``Workspace`` maps between host paths and the paths GIMP sees.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import shutil
import signal
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
DEFAULT_ROOT = Path("/var/cache/reverie/gimp-trixie")
GIMP = "gimp-console-3.0"
GIMP_UI = "gimp-3.0"
# GIMP's PATH in the tests: the system's, without the test environment's Python or ``reverie``.
GIMP_PATH = "/usr/bin:/bin"
CHROOT = "/usr/sbin/chroot"
BATCH_TIMEOUT = 120
FORMATS = {"u8": np.uint8, "u16": np.uint16, "float": np.float32}


class GimpUnavailable(Exception):
    """Why GIMP 3 cannot run here (the e2e tests skip with it, or fail under CI)."""


@dataclass(frozen=True)
class GimpInstall:
    """A GIMP 3 installation: ``root`` is "/" when native, else the chroot."""

    root: Path

    @property
    def native(self) -> bool:
        return self.root == Path("/")

    def command(self, env: dict[str, str], args: list[str]) -> list[str]:
        """``args`` run with a clean environment (host Python variables must not leak into GIMP)."""
        clean = ["env", "-i", *(f"{key}={value}" for key, value in env.items())]
        return [*clean, *args] if self.native else [CHROOT, str(self.root), *clean, *args]

    def python(self) -> str:
        """The command that runs GIMP's Python, as the installer's --gimp-python takes it."""
        return "/usr/bin/python3" if self.native else f"{CHROOT} {self.root} /usr/bin/python3"


def find_gimp() -> GimpInstall:
    """GIMP 3 with Python and pyzmq: on this machine, else in the chroot provide_gimp.sh built."""
    if shutil.which(GIMP):
        return GimpInstall(Path("/"))
    root = Path(os.environ.get("REVERIE_GIMP_ROOT", DEFAULT_ROOT))
    if not (root / ".reverie-gimp-stamp").is_file():
        raise GimpUnavailable(f"no {GIMP} on PATH and no GIMP chroot at {root}; run tests/e2e/provide_gimp.sh")
    if os.geteuid() != 0:
        raise GimpUnavailable(f"the GIMP chroot at {root} needs root to enter")
    return GimpInstall(root)


@dataclass(frozen=True)
class Workspace:
    """A folder GIMP and the tests share: ``host`` as the tests see it, ``inside`` as GIMP does."""

    host: Path
    inside: Path

    @classmethod
    def create(cls, gimp: GimpInstall, name: str) -> Workspace:
        """A fresh folder under the GIMP root's /tmp."""
        inside = Path("/tmp") / f"reverie-e2e-{name}-{uuid.uuid4().hex[:8]}"
        host = gimp.root / inside.relative_to("/")
        host.mkdir(parents=True)
        return cls(host, inside)

    def sub(self, name: str) -> Workspace:
        """A sub-folder, created if need be."""
        (self.host / name).mkdir(parents=True, exist_ok=True)
        return Workspace(self.host / name, self.inside / name)


@dataclass
class Record:
    """What one batch recorded: plain values and pixel arrays (height × width × channels)."""

    values: dict[str, Any]
    pixels: dict[str, np.ndarray]
    offsets: dict[str, tuple[int, int]]
    output: str


def load_record(folder: Path, output: str) -> Record:
    """The values and pixel buffers a batch's Recorder saved in ``folder``."""
    document = json.loads((folder / "record.json").read_text())
    pixels, offsets = {}, {}
    for name, meta in document["buffers"].items():
        dtype = FORMATS[meta["format"].split()[-1]]
        channels = len(meta["format"].split()[0].replace("'", ""))
        raw = np.frombuffer((folder / f"{name}.raw").read_bytes(), dtype=dtype)
        pixels[name] = raw.reshape(meta["height"], meta["width"], channels)
        offsets[name] = tuple(meta["offsets"])
    return Record(document["values"], pixels, offsets, output)


# What the batch code imports (and pane_watch.py beside it): copied into the test's workspace.
BATCH_HELPERS = ("gimp_side.py", "server_idle.py")


def _batch(gimp: GimpInstall, config_dir: Workspace, work: Workspace, code: str, path: str) -> tuple[dict, list]:
    """The environment and GIMP arguments that run ``code`` with ``g`` (gimp_side) and ``rec`` (a Recorder)."""
    for helper in BATCH_HELPERS:
        shutil.copy(HERE / helper, work.host / helper)
    script = work.host / "batch.py"
    script.write_text(
        f"import sys\nsys.path.insert(0, {str(work.inside)!r})\nimport gimp_side as g\n"
        f"rec = g.Recorder({str(work.inside)!r})\n{code}\nrec.save()\n"
    )
    env = {
        "HOME": str(work.inside / "home"),
        "LANG": "C.UTF-8",
        "PATH": path,
        "GIMP3_DIRECTORY": str(config_dir.inside),
    }
    (work.host / "home").mkdir(exist_ok=True)
    batch = f"exec(open({str(work.inside / 'batch.py')!r}).read())"
    return env, ["-d", "-f", "--batch-interpreter", "python-fu-eval", "-b", batch, "--quit"]


def _finish(completed: subprocess.CompletedProcess, work: Workspace, context: str = "") -> Record:
    output = completed.stdout + completed.stderr
    if completed.returncode != 0 or not (work.host / "record.json").is_file():
        raise AssertionError(f"GIMP batch failed (exit {completed.returncode}):\n{output[-6000:]}{context}")
    return load_record(work.host, output)


def run_batch(gimp: GimpInstall, config_dir: Workspace, work: Workspace, code: str, path: str) -> Record:
    """Run ``code`` in headless GIMP (``g`` is gimp_side, ``rec`` a Recorder) with GIMP3_DIRECTORY=config_dir."""
    env, args = _batch(gimp, config_dir, work, code, path)
    completed = subprocess.run(
        gimp.command(env, [GIMP, "-i", *args]), capture_output=True, text=True, timeout=BATCH_TIMEOUT, check=False
    )
    return _finish(completed, work)


class BackgroundBatch:
    """A headless GIMP batch that runs while the test acts on it (e.g. kills the plug-in mid-dream)."""

    def __init__(self, gimp: GimpInstall, config_dir: Workspace, work: Workspace, code: str, path: str) -> None:
        env, args = _batch(gimp, config_dir, work, code, path)
        self.work = work
        self.config_dir = config_dir
        self.process = subprocess.Popen(
            gimp.command(env, [GIMP, "-i", *args]), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )

    def plugin_pids(self) -> list[int]:
        """The Deep Dream plug-in processes this batch's GIMP runs (GIMP in a chroot shares our /proc)."""
        marker = f"{self.config_dir.inside}/plug-ins/reverie-dream/reverie-dream.py".encode()
        pids = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    if marker in (entry / "cmdline").read_bytes():
                        pids.append(int(entry.name))
                except OSError:  # the process ended while we looked
                    continue
        return pids

    def finish(self) -> Record:
        try:
            stdout, stderr = self.process.communicate(timeout=BATCH_TIMEOUT)
        finally:
            self.process.kill()
        return _finish(
            subprocess.CompletedProcess(self.process.args, self.process.returncode, stdout, stderr), self.work
        )


# A step whose "window" is this runs its "keys" as a shell command instead (e.g. a watcher of the screen).
COMMAND_STEP = "!"
# How often the wait for GIMP looks whether the driver has failed (then no step can come: GIMP would wait forever).
DRIVER_CHECK = 1.0


# How many times a window search runs before its failure counts: xdotool 3.20160805 (Debian 13's) dies of BadWindow
# when any window vanishes while it walks the window tree (fixed upstream in 2021, xdotool pull request #335).
SEARCH_TRIES = 5


def shown_windows(title: str) -> str:
    """A shell command that waits until a window whose title matches ``title`` is on screen and prints the ids of
    all such windows.

    On screen (mapped), not merely named: GTK names a window some milliseconds before it maps it, and
    focusing a window in that gap kills xdotool with BadMatch (X_SetInputFocus), so no key ever comes.
    A search that fails (see SEARCH_TRIES) searches again: it reads the display and presses nothing.
    """
    search = f"xdotool search --sync --onlyvisible --name {shlex.quote(title)}"
    again = "echo 'xdotool search failed (a window vanished while it looked?); searching again' >&2"
    tries = " ".join(str(number) for number in range(1, SEARCH_TRIES + 1))
    # The loop's status is the last search's: 0 once one found the window (break), else 1.
    return f"for t in {tries}; do {search} && break; [ $t -lt {SEARCH_TRIES} ] && {again}; done"


def shown_window(title: str) -> str:
    """A shell command that waits for a window whose title matches ``title`` to be on screen and prints its id."""
    return f"{shown_windows(title)} | head -n1"


def _xdotool_step(window: str, keys: str) -> str:
    if window == COMMAND_STEP:
        return keys
    find = f'found=$({shown_windows(window)}) && w=$(echo "$found" | head -n1) && echo "window $w of" $found'
    return f"{find} && xdotool windowfocus --sync $w key {keys}" if keys else find


def _describe(window: str, keys: str) -> str:
    if window == COMMAND_STEP:
        return f"run {keys}"
    return f"wait for a window named {window!r} on screen" + (f", focus it and press {keys}" if keys else "")


def driver_script(steps: list[tuple[str, str]]) -> str:
    """The shell script that plays ``steps`` in order, each announced before it runs; it stops at a failed step,
    saying so, and ends by saying every step was played (its output tells a hang what it waited for)."""
    lines = []
    for number, (window, keys) in enumerate(steps, 1):
        lines.append(f"echo {shlex.quote(f'step {number}/{len(steps)}: {_describe(window, keys)}')}")
        lines.append(f'( {_xdotool_step(window, keys)}\n) || {{ echo "step {number} failed (exit $?)"; exit 1; }}')
    lines.append(f"echo 'all {len(steps)} steps played'")
    return "\n".join(lines)


def _tail(text: str, size: int = 6000) -> str:
    return text[-size:] if text else "(none)"


def _wait_beside(command: list[str], driver: subprocess.Popen, trace: Path) -> subprocess.CompletedProcess:
    """GIMP's run while the driver plays its steps. A failed driver or BATCH_TIMEOUT ends GIMP (with its
    plug-ins) and fails with what the driver last did and said, and what GIMP said."""
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    deadline = time.monotonic() + BATCH_TIMEOUT
    try:
        while True:
            try:
                stdout, stderr = process.communicate(timeout=DRIVER_CHECK)
                return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)
            except subprocess.TimeoutExpired:
                if driver.poll() not in (None, 0) or time.monotonic() > deadline:
                    break
    finally:
        if process.returncode is None:
            os.killpg(process.pid, signal.SIGKILL)
    stdout, stderr = process.communicate(timeout=BATCH_TIMEOUT)
    state = "is still running" if driver.poll() is None else f"exited with {driver.returncode}"
    why = f"did not finish within {BATCH_TIMEOUT} s" if driver.returncode in (None, 0) else "was stopped: a step failed"
    raise AssertionError(
        f"GIMP {why}; the xdotool driver {state}. Its output (each step as it began; the last is where it was):\n"
        f"{_tail(trace.read_text())}\nGIMP's output:\n{_tail(stdout + stderr)}"
    )


def run_gui_batch(
    gimp: GimpInstall,
    config_dir: Workspace,
    work: Workspace,
    code: str,
    path: str,
    steps: list[tuple[str, str]],
    screen: str = "1280x1024",
    extra_env: dict[str, str] | None = None,
) -> Record:
    """Run ``code`` in GIMP with its UI on a private Xvfb display while xdotool plays ``steps``.

    Each step is ``(window title pattern, keys)``: wait until such a window is on screen, then (keys not
    empty) focus it and press the keys. Xvfb picks a free display and reports it (-displayfd) and
    xdotool waits for windows and focus (--sync), so nothing here guesses how long anything takes.
    ``screen`` is the display's size (e.g. "1366x768"); ``extra_env`` goes to GIMP and its plug-ins.
    The driver's output (each step as it starts, xdotool's errors) is in ``work``/driver.log.
    """
    display = subprocess.Popen(
        gimp.command(
            {"PATH": "/usr/bin:/bin"}, ["Xvfb", "-displayfd", "1", "-nolisten", "tcp", "-screen", "0", f"{screen}x24"]
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        number = display.stdout.readline().strip()
        if not number:
            raise AssertionError("Xvfb did not start")
        env, args = _batch(gimp, config_dir, work, code, path)
        env["DISPLAY"] = f":{number}"
        env.update(extra_env or {})
        trace = work.host / "driver.log"
        with trace.open("w") as log:
            driver = subprocess.Popen(
                gimp.command({"PATH": "/usr/bin:/bin", "DISPLAY": env["DISPLAY"]}, ["sh", "-c", driver_script(steps)]),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            completed = _wait_beside(gimp.command(env, [GIMP_UI, *args]), driver, trace)
        finally:
            with contextlib.suppress(ProcessLookupError):  # the driver's shell and any step still running, if any
                os.killpg(driver.pid, signal.SIGKILL)
            driver.wait()
    finally:
        display.terminate()
        display.wait()
    return _finish(completed, work, f"\nThe xdotool driver's output:\n{_tail(trace.read_text())}")
