"""What a client takes from the server's TOML config: ``[server] endpoint`` and the key files of ``[keys]``.

Standard library only. The server reads the whole file (``reverie.config``) with the same table and key
parsing. Python 3.10 has no ``tomllib``: there ``tomli`` is used where installed, and a client without it
(GIMP's bundled Python) reads no config and uses the default endpoint.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reverie_wire.errors import ConfigError
from reverie_wire.protocol import DEFAULT_ENDPOINT

# Seconds a starting server may take to load its model before `reverie start` (and the plug-in) give up.
START_TIMEOUT = 300.0
# What the installer writes beside the plug-in: where `reverie` lives and which config file to read.
PLUGIN_SETTINGS_FILE = "reverie-dream.json"


@dataclass(frozen=True)
class KeyFiles:
    """CURVE key files; ``server_secret`` switches encryption on for the server and the broker, ``server_public``
    pins the server's key for a client, ``client_secret`` is the client's own pair."""

    server_secret: Path | None = None
    authorized_clients: Path | None = None
    server_public: Path | None = None
    client_secret: Path | None = None


KEY_NAMES = tuple(f.name for f in dataclasses.fields(KeyFiles))


@dataclass(frozen=True)
class ClientConfig:
    """The endpoint a client talks to and the keys it talks with."""

    endpoint: str = DEFAULT_ENDPOINT
    keys: KeyFiles = field(default_factory=KeyFiles)


def _toml_parser() -> Callable[[str], dict[str, Any]] | None:
    if sys.version_info >= (3, 11):
        import tomllib

        return tomllib.loads
    try:  # Python 3.10: the same parser, as a package, where it is installed
        import tomli

        parse: Callable[[str], dict[str, Any]] = tomli.loads
        return parse
    except ModuleNotFoundError:
        return None


PARSE_TOML = _toml_parser()


def read_toml(path: Path) -> dict[str, Any]:
    """The parsed TOML file at ``path``; a missing parser is the caller's to check (``PARSE_TOML``)."""
    if PARSE_TOML is None:
        raise ConfigError(f"cannot read {path}: this Python has no TOML parser; install tomli")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else error
        raise ConfigError(f"cannot read the config file {path}: {reason}") from None
    try:
        return PARSE_TOML(text)
    except ValueError as error:  # tomllib.TOMLDecodeError is a ValueError
        raise ConfigError(f"{path} is not valid TOML: {error}") from None


def table(data: Mapping[str, Any], name: str, source: Path) -> dict[str, Any]:
    """The table ``[name]``, empty where the file has none."""
    section = data.get(name, {})
    if not isinstance(section, dict):
        raise ConfigError(f"{source}: [{name}] must be a table")
    return section


def key_files(section: Mapping[str, Any], source: Path) -> KeyFiles:
    """The ``[keys]`` table's paths (``~`` expanded); names outside ``KEY_NAMES`` are the caller's to refuse."""
    paths = {}
    for name in KEY_NAMES:
        value = section.get(name)
        if value is None:
            continue
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{source}: [keys] {name} must be a file path")
        paths[name] = Path(value).expanduser()
    return KeyFiles(**paths)


def client_config(path: Path) -> ClientConfig:
    """The endpoint and keys the config at ``path`` names; defaults where the file, or a TOML parser, is missing."""
    if PARSE_TOML is None or not path.is_file():
        return ClientConfig()
    data = read_toml(path)
    endpoint = table(data, "server", path).get("endpoint", DEFAULT_ENDPOINT)
    if not isinstance(endpoint, str) or not endpoint:
        raise ConfigError(f"{path}: [server] endpoint must be a non-empty string")
    return ClientConfig(endpoint, key_files(table(data, "keys", path), path))
