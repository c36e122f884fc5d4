"""Which Python GIMP runs plug-ins with, and whether it can import pyzmq.

Linux distributions run the plug-in's ``#!/usr/bin/env python3`` line; the Windows and macOS bundles
name their own Python in ``pygimp.interp``; Flatpak's Python lives inside the sandbox.
"""

from __future__ import annotations

import glob
import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from reverie_install.locations import FLATPAK_APP, GimpTarget

PROBE = (
    "import json, sys, sysconfig\n"
    "try:\n    import zmq\n    zmq_version = zmq.__version__\n"
    "except ImportError:\n    zmq_version = None\n"
    "print(json.dumps({'version': '%d.%d' % sys.version_info[:2], 'platform': sysconfig.get_platform(),"
    " 'zmq': zmq_version}))"
)
INTERP_GLOBS = (
    "/usr/lib*/gimp/3.0/interpreters/*.interp",
    "/usr/lib/*/gimp/3.0/interpreters/*.interp",
    "/usr/local/lib*/gimp/3.0/interpreters/*.interp",
    "/Applications/GIMP*.app/Contents/Resources/lib/gimp/3.0/interpreters/*.interp",
    "C:/Program Files/GIMP 3*/lib/gimp/3.0/interpreters/*.interp",
)


@dataclass(frozen=True)
class PythonFacts:
    """What the probe learnt: ``version`` ("3.12"), sysconfig ``platform``, pyzmq version or None."""

    version: str
    platform: str
    zmq: str | None


def interp_python(text: str) -> str | None:
    """The python3 (or python) binary an interpreter file registers, if any."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        name, sep, value = line.strip().partition("=")
        if sep and not name.startswith(("#", ":")):
            found[name.strip()] = value.strip()
    return found.get("python3") or found.get("python")


def gimp_python_command(target: GimpTarget) -> list[str] | None:
    """The command that runs GIMP's Python for ``target``, or None when it cannot be found."""
    if target.flatpak:
        return ["flatpak", "run", "--command=python3", FLATPAK_APP] if shutil.which("flatpak") else None
    for pattern in INTERP_GLOBS:
        for path in sorted(glob.glob(pattern)):
            binary = interp_python(Path(path).read_text(encoding="utf-8", errors="replace"))
            if binary:
                return [binary]
    # Linux packages run the plug-in's "#!/usr/bin/env python3" with the system Python, if GIMP 3 is here.
    system = Path("/usr/bin/python3")
    return [str(system)] if system.exists() and gimp3_installed() else None


def gimp3_installed() -> bool:
    """Whether a native GIMP 3 is installed (its binaries on PATH or its library folder)."""
    binaries = any(shutil.which(name) for name in ("gimp-3.0", "gimp-console-3.0", "gimp-3"))
    return binaries or any(glob.glob(pattern) for pattern in ("/usr/lib*/gimp/3.0", "/usr/lib/*/gimp/3.0"))


def probe(command: list[str]) -> PythonFacts:
    """Run the probe with GIMP's Python; raises OSError or CalledProcessError when it cannot run."""
    completed = subprocess.run([*command, "-c", PROBE], check=True, capture_output=True, text=True, timeout=120)
    data = json.loads(completed.stdout.strip().splitlines()[-1])
    return PythonFacts(data["version"], data["platform"], data["zmq"])


def wheel_platform(sysconfig_platform: str) -> str:
    """pip's ``--platform`` tag for a sysconfig platform ("linux-x86_64" → "manylinux2014_x86_64")."""
    tag = sysconfig_platform.replace("-", "_").replace(".", "_")
    if tag.startswith("linux_"):
        return "manylinux2014_" + tag.removeprefix("linux_")
    return tag
