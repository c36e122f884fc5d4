"""The server's settings: a TOML file under the platform's user config dir, and where pid and log files live.

Paths follow platformdirs (XDG on Linux: ``$XDG_CONFIG_HOME/reverie``, ``$XDG_STATE_HOME/reverie``).
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

from reverie.cluster.settings import KEYS as CLUSTER_KEYS
from reverie.cluster.settings import ClusterSettings, parse_cluster
from reverie.config_bounds import bounded
from reverie_wire.config import KEY_NAMES, KeyFiles, key_files, read_toml, table
from reverie_wire.errors import ConfigError
from reverie_wire.protocol import DEFAULT_ENDPOINT, Limits

APP = "reverie"


# The Keras backends the server runs on, and their names as a person reads them.
BACKEND_NAMES = {"tensorflow": "TensorFlow", "jax": "JAX"}
BACKENDS = tuple(BACKEND_NAMES)
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(s|m|h)")
_PICTURE_SIZE = re.compile(r"(\d+)\s*[x×]\s*(\d+)")
# A warm-up picture's sides: any model's layers take the smaller, and the larger is Limits' default max_side.
WARM_UP_SIDES = (256, 16384)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600}


@dataclass(frozen=True)
class ServerConfig:
    """Everything ``reverie serve`` needs; command-line flags override the file."""

    endpoint: str = DEFAULT_ENDPOINT
    model: str = "inception_v3"
    weights: str = "imagenet"
    # Keras' backend for the server ("tensorflow" or "jax"); None leaves it to KERAS_BACKEND / Keras' default.
    backend: str | None = None
    # Seconds without requests or jobs after which the server exits, freeing its memory; None: never.
    idle_exit: float | None = None
    # The log file's size before it is rotated, and how many rotated files are kept.
    log_max_mb: int = 10
    log_backups: int = 3
    # The pictures (height, width) the server readies at start; None: the engine's (see ``engine.warming``).
    warm_up: tuple[tuple[int, int], ...] | None = None
    limits: Limits = field(default_factory=Limits)
    keys: KeyFiles = field(default_factory=KeyFiles)
    # Dream on a Ray cluster's dreamers behind this server's endpoint (``[cluster]``, ``--cluster``); None: here.
    cluster: ClusterSettings | None = None

    def replace(self, **changes: Any) -> ServerConfig:
        """A copy with the given fields changed; None values are ignored (unset flags)."""
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})


def config_dir() -> Path:
    return Path(platformdirs.user_config_dir(APP))


def config_path() -> Path:
    return config_dir() / "config.toml"


def keys_dir() -> Path:
    return config_dir() / "keys"


def state_dir() -> Path:
    return Path(platformdirs.user_state_dir(APP))


def _slug(endpoint: str) -> str:
    """A file name part for an endpoint, so servers on different endpoints keep separate pid and log files."""
    return re.sub(r"[^A-Za-z0-9.]+", "-", endpoint).strip("-")


def pid_path(endpoint: str) -> Path:
    return state_dir() / f"server-{_slug(endpoint)}.pid"


def log_path(endpoint: str) -> Path:
    return Path(platformdirs.user_log_dir(APP)) / f"server-{_slug(endpoint)}.log"


def parse_duration(text: str) -> float | None:
    """Seconds from "90s", "30m" or "2h"; None for "off"."""
    if text.strip().lower() == "off":
        return None
    match = _DURATION.fullmatch(text.strip())
    if match is None or float(match[1]) <= 0:
        raise ConfigError(f'idle_exit must be a duration such as "90s", "30m" or "2h", or "off"; got {text!r}')
    return float(match[1]) * _UNIT_SECONDS[match[2]]


def parse_backend(name: str) -> str:
    """A Keras backend the server can run on."""
    if name not in BACKENDS:
        raise ConfigError(f"backend must be one of {', '.join(BACKENDS)}; got {name!r}")
    return name


_SECTIONS: dict[str, tuple[str, ...]] = {
    "server": ("endpoint", "model", "weights", "backend", "idle_exit", "log_max_mb", "log_backups", "warm_up"),
    "limits": tuple(f.name for f in dataclasses.fields(Limits)),
    "keys": KEY_NAMES,
    "cluster": CLUSTER_KEYS,
}


def _section(data: Mapping[str, Any], name: str, source: Path) -> dict[str, Any]:
    section = table(data, name, source)
    unknown = sorted(set(section) - set(_SECTIONS[name]))
    if unknown:
        raise ConfigError(
            f"{source}: unknown setting(s) {', '.join(unknown)} in [{name}]; known: {', '.join(_SECTIONS[name])}"
        )
    return section


def _bounded(section: Mapping[str, Any], name: str, source: Path, table: str = "limits") -> dict[str, int]:
    return {name: bounded(name, section[name], f"{source}: [{table}]")}


def parse_warm_up(value: Any) -> tuple[tuple[int, int], ...]:
    """(height, width) of each picture size in a list such as ["1920x1080", "1080x1920"] (width × height)."""
    low, high = WARM_UP_SIDES
    expected = f'warm_up must be a list of picture sizes such as ["1920x1080"], each side {low} to {high} pixels'
    if not isinstance(value, list) or not all(isinstance(size, str) for size in value):
        raise ConfigError(f"{expected}; got {value!r}")
    sizes = []
    for size in value:
        match = _PICTURE_SIZE.fullmatch(size.strip())
        if match is None or not all(low <= int(side) <= high for side in match.groups()):
            raise ConfigError(f"{expected}; got {size!r}")
        sizes.append((int(match[2]), int(match[1])))
    return tuple(sizes)


def _server_settings(section: Mapping[str, Any], source: Path) -> dict[str, Any]:
    """[server]: strings, except the log's numbers and the warm-up's sizes; each is checked as well."""
    settings: dict[str, Any] = {}
    for name, value in section.items():
        if name in ("log_max_mb", "log_backups"):
            settings.update(_bounded(section, name, source, "server"))
            continue
        if name == "warm_up":
            try:
                settings[name] = parse_warm_up(value)
            except ConfigError as error:
                raise ConfigError(f"{source}: [server] {error}") from None
            continue
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{source}: [server] {name} must be a non-empty string")
        try:
            settings[name] = {"backend": parse_backend, "idle_exit": parse_duration}.get(name, str)(value)
        except ConfigError as error:
            raise ConfigError(f"{source}: [server] {error}") from None
    return settings


def parse_config(data: Mapping[str, Any], source: Path) -> ServerConfig:
    """A config from parsed TOML; unknown sections or keys are errors, so typos do not pass silently."""
    unknown = sorted(set(data) - set(_SECTIONS))
    if unknown:
        raise ConfigError(f"{source}: unknown section(s) {', '.join(unknown)}; known: {', '.join(_SECTIONS)}")
    server = _server_settings(_section(data, "server", source), source)
    limits: dict[str, int] = {}
    for name in _section(data, "limits", source):
        limits.update(_bounded(data["limits"], name, source))
    keys = key_files(_section(data, "keys", source), source)
    cluster = parse_cluster(_section(data, "cluster", source), source)
    return ServerConfig(limits=Limits(**limits), keys=keys, cluster=cluster, **server)


def choose_backend(config: ServerConfig) -> None:
    """Keras' backend for this process, set before anything imports Keras: KERAS_BACKEND if set, else the
    config's (else Keras' own default)."""
    if config.backend is not None:
        os.environ.setdefault("KERAS_BACKEND", config.backend)


def load_config(path: Path | None = None) -> ServerConfig:
    """The config at ``path`` (which must exist), else the user's config file if any, else defaults."""
    source = path or config_path()
    if path is None and not source.is_file():
        return ServerConfig()
    return parse_config(read_toml(source), source)
