"""What the installer recorded beside the plug-in: where ``reverie`` lives and the server's config file.

GIMP may start plug-ins with a PATH that lacks the user's own folders, so the installer writes the
launcher's full path here. The default endpoint is the one the server's config file names. The file
and each of its keys are optional.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from reverie.protocol import DEFAULT_ENDPOINT
from reverie_plugin.messages import PluginFailure

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10 bundles: no config file support, the default endpoint applies
    tomllib = None

SETTINGS_FILE = "reverie-dream.json"
# The fix for a broken plug-in folder: the installer writes it afresh.
REINSTALL = "'python3 install/install.py --plugin-only' from the Reverie folder"


@dataclass(frozen=True)
class Settings:
    """``launcher``: the ``reverie`` command's path, or None to search PATH. ``server_public`` and
    ``client_secret``: the CURVE key files ``[keys]`` of the server's config names, for encrypted servers."""

    endpoint: str = DEFAULT_ENDPOINT
    launcher: str | None = None
    server_public: str | None = None
    client_secret: str | None = None


def _table(data: dict, name: str) -> dict:
    """A TOML table, or an empty one where it is missing or not a table."""
    table = data.get(name, {})
    return table if isinstance(table, dict) else {}


def read_config(config: Path, launcher: str | None) -> Settings:
    """What the plug-in takes from the server's TOML config: ``[server] endpoint`` and the client's keys."""
    if tomllib is None or not config.is_file():
        return Settings(launcher=launcher)
    try:
        data = tomllib.loads(config.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise PluginFailure(f"{config} is not valid TOML ({error}); fix it or remove it") from None
    except (OSError, UnicodeDecodeError) as error:
        raise PluginFailure(
            f"cannot read Reverie's config {config} ({error}); make it readable for your user (or remove it), "
            f"or rerun {REINSTALL} to name another"
        ) from None
    keys = _table(data, "keys")
    return Settings(
        endpoint=str(_table(data, "server").get("endpoint") or DEFAULT_ENDPOINT),
        launcher=launcher,
        server_public=keys.get("server_public") or None,
        client_secret=keys.get("client_secret") or None,
    )


def load(folder: Path) -> Settings:
    """The settings in ``folder``, defaults where the file or a key is missing."""
    path = folder / SETTINGS_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Settings()
    except (OSError, ValueError) as error:  # ValueError: broken JSON or bytes that are not UTF-8
        raise PluginFailure(f"cannot read the plug-in's settings {path} ({error}); rerun {REINSTALL}") from None
    if not isinstance(data, dict):
        raise PluginFailure(f"{path} must hold a JSON object; rerun {REINSTALL}")
    launcher = data.get("launcher") or None
    config = data.get("config")
    return read_config(Path(config), launcher) if config else Settings(launcher=launcher)


def resolve_endpoint(argument: str, settings: Settings) -> str:
    """The endpoint argument, or the configured one where the argument is empty."""
    return argument.strip() or settings.endpoint
