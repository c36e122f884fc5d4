"""The checks behind ``reverie doctor``: each looks at one thing a dream needs and says how to fix it.

Every check takes what it looks at (versions, the device found, a server's facts, GIMP's Python) as
arguments, so each can be tested with the world faked; ``reverie.cli.doctor`` gathers the real ones.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from reverie import __version__
from reverie.config import BACKEND_NAMES, ServerConfig
from reverie.engine.registry import get_spec
from reverie.engine.weight_files import bundled_models, bundled_weights, cached_weights, keras_cache_dir
from reverie_wire.config import PLUGIN_SETTINGS_FILE
from reverie_wire.errors import ReverieError
from reverie_wire.protocol import PROTOCOL_VERSION

REINSTALL_PLUGIN = "python3 install/install.py --plugin-only (from the Reverie source folder)"
# Run by GIMP's Python with the plug-in's folder first on its path, as GIMP runs the plug-in.
ZMQ_PROBE = (
    "import json, sys\n"
    "sys.path.insert(0, sys.argv[1])\n"
    "import zmq\n"
    "context = zmq.Context()\n"
    "context.socket(zmq.DEALER).close(linger=0)\n"
    "context.term()\n"
    "print(json.dumps({'python': '%d.%d' % sys.version_info[:2], 'zmq': zmq.__version__, 'from': zmq.__file__}))"
)


@dataclass(frozen=True)
class Check:
    """One line of the report: ``blocking`` marks a failure that stops a dream."""

    ok: bool
    text: str
    fix: str = ""
    blocking: bool = False


NO_GIMP = Check(False, "GIMP 3 not found (the command line dreams without it)", "install GIMP 3 for the plug-in")


def _mb(size: int) -> str:
    return f"{size / 1e6:.1f} MB"


def installed_version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def package_check(backend: str, version: Callable[[str], str | None] = installed_version) -> Check:
    """Reverie, Keras and the backend's package are installed where this command runs."""
    versions = {name: version(name) for name in ("keras", "tensorflow", "jax")}
    found = ", ".join(f"{name} {number}" for name, number in versions.items() if number)
    text = f"reverie {__version__} in {sys.prefix}" + (f" with {found}" if found else "")
    missing = [name for name in ("keras", backend) if versions.get(name) is None]
    if not missing:
        return Check(True, text)
    return Check(
        False,
        f"{text}; {' and '.join(missing)} missing",
        f"{sys.executable} -m pip install {' '.join(missing)} (or rerun python3 install/install.py)",
        blocking=True,
    )


def device_check(backend: str, device: tuple[str, str] | Exception, gpus: list[str]) -> Check:
    """Keras' backend loads and finds a device; a GPU this machine has but the backend cannot use is said."""
    name = BACKEND_NAMES.get(backend, backend)
    if isinstance(device, Exception):
        return Check(
            False,
            f"Keras backend {name} does not load: {device}",
            f'install it into {sys.prefix}, or choose the other one: [server] backend = "tensorflow" or "jax" '
            "in config.toml",
            blocking=True,
        )
    platform, device_name = device
    text = f"Keras backend {name} on {device_name}"
    if platform != "cpu":
        return Check(True, text)
    if gpus:
        fix = (
            f"{sys.executable} -m pip install 'jax[cuda12]'"
            if backend == "jax"
            else f"run the server on JAX with CUDA: {sys.executable} -m pip install 'jax[cuda12]' and "
            '[server] backend = "jax" in config.toml'
        )
        return Check(False, f"{text}, but this machine has {gpus[0]} ({name} was installed without CUDA)", fix)
    if backend == "jax":
        return Check(
            False,
            f"{text}: JAX found no GPU, and on a CPU TensorFlow dreams several times faster",
            '[server] backend = "tensorflow" in config.toml (or KERAS_BACKEND=tensorflow)',
        )
    return Check(True, f"{text} (no NVIDIA GPU on this machine)")


def weights_check(config: ServerConfig) -> Check:
    """The configured model's weights are where loading will look for them."""
    try:
        spec = get_spec(config.model)
    except ReverieError as error:
        return Check(False, f"model: {error}", "fix [server] model in config.toml", blocking=True)
    where = f"{spec.name} weights"
    if config.weights == "random":
        return Check(True, f"{where}: seeded random (abstract textures, not DeepDream's eyes and dogs)")
    if config.weights != "imagenet":
        path = Path(config.weights).expanduser()
        if path.is_file():
            return Check(True, f"{where}: {path} ({_mb(path.stat().st_size)})")
        return Check(
            False,
            f"{where}: {path} does not exist",
            f"fix [server] weights in config.toml: an .h5 file of {spec.name}, 'imagenet' or 'random'",
            blocking=True,
        )
    cached = cached_weights(spec)
    if cached is not None:
        size = cached.stat().st_size
        if size == spec.weights_bytes:
            return Check(True, f"{where}: ImageNet, in Keras' cache: {cached} ({_mb(size)})")
        return Check(
            False,
            f"{where}: {cached} holds {_mb(size)} of {_mb(spec.weights_bytes)} (an interrupted download?)",
            f"delete it; the next `reverie start` downloads it again (or copy {spec.weights_url} there)",
        )
    bundled = bundled_weights(spec)
    if bundled is not None:
        return Check(True, f"{where}: ImageNet, shipped with Reverie: {bundled} ({_mb(spec.weights_bytes)})")
    offline = [name for name in bundled_models() if name != spec.name]
    return Check(
        False,
        f"{where}: ImageNet, not downloaded yet; the first start downloads {_mb(spec.weights_bytes)} into "
        f"{keras_cache_dir()}",
        "nothing, with internet; offline, copy "
        f"{spec.weights_url} to {keras_cache_dir() / spec.weights_file}"
        + (f", or dream with `reverie start --model {offline[0]}` (shipped with Reverie)" if offline else ""),
    )


def endpoint_check(config: ServerConfig, facts: dict[str, Any] | Exception | None) -> Check:
    """The configured endpoint answers, with which model, weights, backend and protocol."""
    endpoint = config.endpoint
    if isinstance(facts, Exception):
        return Check(False, f"the server at {endpoint} answers but: {facts}", "see [keys] in config.toml", True)
    if facts is None:
        return Check(
            False,
            f"no dream server answers at {endpoint}",
            "`reverie start` starts one (meanwhile `reverie dream` dreams in its own process and the plug-in "
            "starts one itself)",
        )
    backend = BACKEND_NAMES.get(facts.get("backend") or "", "a backend still loading")
    state = facts["state"] + (f" ({facts['phase']})" if facts.get("phase") else "")
    text = (
        f"server at {endpoint}: reverie {facts['version']}, protocol {facts['protocol']}, {facts['model']} with "
        f"{facts['weights']} weights on {facts.get('device') or 'a device still loading'}, Keras {facts['keras']} "
        f"on {backend}; {state}"
    )
    if facts["protocol"] != PROTOCOL_VERSION:
        return Check(
            False,
            f"{text}; this reverie speaks protocol {PROTOCOL_VERSION}",
            "`reverie stop`, then `reverie start` with this installation",
            blocking=True,
        )
    if (facts["model"], facts["weights"]) != (config.model, config.weights):
        return Check(
            False,
            f"{text}; config.toml asks for {config.model} with {config.weights} weights",
            "`reverie stop && reverie start` loads the configured model (dreams naming the other one are refused)",
        )
    return Check(True, text)


@dataclass(frozen=True)
class GimpSetup:
    """What was found of GIMP 3: its user folder (None: none), the command running its Python, and the probe
    of that Python's pyzmq (its facts, or why it failed)."""

    config_dir: Path | None
    installed: bool
    python: list[str] | None
    zmq: dict[str, str] | str | None


def gimp_checks(gimp: GimpSetup) -> list[Check]:
    """GIMP 3, its Python's pyzmq and the plug-in. Without GIMP the command line still dreams, so only a
    broken plug-in setup blocks."""
    if gimp.config_dir is None:
        if gimp.installed:
            return [
                Check(
                    False,
                    "GIMP 3 is installed but has no user folder yet",
                    f"start GIMP 3 once, then {REINSTALL_PLUGIN}",
                )
            ]
        return [NO_GIMP]
    checks = [Check(True, f"GIMP 3 user folder: {gimp.config_dir}")]
    plugin_dir = gimp.config_dir / "plug-ins" / "reverie-dream"
    if gimp.python is None and not gimp.installed:  # a user folder the installer made, no GIMP (yet)
        checks.append(NO_GIMP)
    elif gimp.python is None:
        checks.append(Check(False, "GIMP's Python not found", "install GIMP 3's Python support (gimp-python3)", True))
    elif isinstance(gimp.zmq, dict):
        origin = "beside the plug-in" if gimp.zmq["from"].startswith(str(plugin_dir)) else "GIMP's own"
        checks.append(
            Check(
                True,
                f"GIMP's Python {gimp.zmq['python']} ({shlex.join(gimp.python)}): pyzmq {gimp.zmq['zmq']}, {origin}",
            )
        )
    else:
        checks.append(
            Check(
                False,
                f"GIMP's Python ({shlex.join(gimp.python)}) has no working pyzmq: {gimp.zmq}",
                REINSTALL_PLUGIN,
                True,
            )
        )
    checks.append(plugin_check(plugin_dir))
    return checks


def plugin_check(plugin_dir: Path) -> Check:
    """The plug-in is installed and speaks this server's protocol."""
    entry = plugin_dir / "reverie-dream.py"
    if not entry.is_file():
        return Check(False, f"the Reverie plug-in is not installed in {plugin_dir}", REINSTALL_PLUGIN, True)
    match = re.search(r"^PROTOCOL_VERSION = (\d+)$", _read(plugin_dir / "reverie_wire" / "protocol.py"), re.M)
    version = int(match[1]) if match else None
    if version != PROTOCOL_VERSION:
        return Check(
            False,
            f"the plug-in in {plugin_dir} speaks protocol {version}, this reverie {PROTOCOL_VERSION}",
            REINSTALL_PLUGIN,
            True,
        )
    settings = json.loads(_read(plugin_dir / PLUGIN_SETTINGS_FILE) or "{}")
    launcher = settings.get("launcher")
    if not launcher or not Path(launcher).exists():
        return Check(
            False,
            f"the plug-in in {plugin_dir} (protocol {version}) has no `reverie` command to start a server with",
            "rerun python3 install/install.py, or start the server yourself (`reverie start`)",
        )
    return Check(True, f"the plug-in in {plugin_dir}: protocol {version}, starts servers with {launcher}")


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""


def probe_gimp_zmq(python: list[str], plugin_dir: Path) -> dict[str, str] | str:
    """pyzmq as the plug-in sees it in GIMP's Python: its facts, or the last line of why it failed."""
    try:
        done = subprocess.run(
            [*python, "-c", ZMQ_PROBE, str(plugin_dir)], capture_output=True, text=True, timeout=120, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"cannot run it: {error}"
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines()
        return lines[-1] if lines else f"exit status {done.returncode}"
    return json.loads(done.stdout.strip().splitlines()[-1])


def nvidia_gpus() -> list[str]:
    """The NVIDIA GPUs ``nvidia-smi -L`` lists (none when it is missing or fails)."""
    if shutil.which("nvidia-smi") is None:
        return []
    try:
        done = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return []
    return [line.split(" (UUID")[0].split(": ", 1)[-1] for line in done.stdout.splitlines() if line.startswith("GPU")]
