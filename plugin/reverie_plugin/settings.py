"""What the installer recorded beside the plug-in: where ``reverie`` lives and the server's config file.

GIMP may start plug-ins with a PATH that lacks the user's own folders, so the installer writes the
launcher's full path here. The endpoint and keys are the ones the server's config file names
(``reverie_wire.config``). The file and each of its keys are optional.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from reverie_plugin.messages import PluginFailure
from reverie_wire.config import PLUGIN_SETTINGS_FILE, ClientConfig, client_config
from reverie_wire.errors import ConfigError

# The fix for a broken plug-in folder: the installer writes it afresh.
REINSTALL = "'python3 install/install.py --plugin-only' from the Reverie folder"


@dataclass(frozen=True)
class Settings:
    """``launcher``: the ``reverie`` command's path, or None to search PATH; ``client``: the endpoint and the
    CURVE key files the server's config names."""

    launcher: str | None = None
    client: ClientConfig = field(default_factory=ClientConfig)

    @property
    def endpoint(self) -> str:
        return self.client.endpoint


def read_config(config: Path, launcher: str | None) -> Settings:
    """The settings with what the server's TOML config at ``config`` names."""
    try:
        return Settings(launcher, client_config(config))
    except ConfigError as error:
        raise PluginFailure(f"{error}; fix it or remove it, or rerun {REINSTALL} to name another config") from None


def load(folder: Path) -> Settings:
    """The settings in ``folder``, defaults where the file or a key is missing."""
    path = folder / PLUGIN_SETTINGS_FILE
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
