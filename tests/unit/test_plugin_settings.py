"""What the plug-in reads from the installer's settings file and the server's config."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reverie_plugin import settings
from reverie_plugin.messages import PluginFailure
from reverie_wire.config import PLUGIN_SETTINGS_FILE, ClientConfig
from reverie_wire.protocol import DEFAULT_ENDPOINT


def write(folder: Path, data: object) -> None:
    (folder / PLUGIN_SETTINGS_FILE).write_text(json.dumps(data))


def test_no_file_means_defaults(tmp_path: Path) -> None:
    assert settings.load(tmp_path) == settings.Settings()
    assert settings.load(tmp_path).endpoint == DEFAULT_ENDPOINT


def test_launcher_and_endpoint_from_the_servers_config(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[server]\nendpoint = "tcp://192.168.1.5:6000"\n')
    write(tmp_path, {"launcher": "/opt/reverie/bin/reverie", "config": str(config)})
    assert settings.load(tmp_path) == settings.Settings(
        "/opt/reverie/bin/reverie", ClientConfig("tcp://192.168.1.5:6000")
    )


def test_missing_config_file_or_key_gives_the_default_endpoint(tmp_path: Path) -> None:
    write(tmp_path, {"launcher": None, "config": str(tmp_path / "absent.toml")})
    assert settings.load(tmp_path).endpoint == DEFAULT_ENDPOINT
    (tmp_path / "c.toml").write_text("[limits]\nmax_side = 100\n")
    write(tmp_path, {"config": str(tmp_path / "c.toml")})
    assert settings.load(tmp_path).endpoint == DEFAULT_ENDPOINT


def test_broken_files_say_what_to_do(tmp_path: Path) -> None:
    write(tmp_path, ["not", "an", "object"])
    with pytest.raises(PluginFailure, match=r"install\.py"):
        settings.load(tmp_path)
    (tmp_path / "bad.toml").write_text("[server\n")
    write(tmp_path, {"config": str(tmp_path / "bad.toml")})
    with pytest.raises(PluginFailure, match=r"not valid TOML.*fix it or remove it"):
        settings.load(tmp_path)
    (tmp_path / "bad.toml").write_text("[server]\nendpoint = 5\n")
    with pytest.raises(PluginFailure, match=r"\[server\] endpoint must be a non-empty string"):
        settings.load(tmp_path)


def test_unreadable_files_name_the_fix(tmp_path: Path) -> None:
    (tmp_path / PLUGIN_SETTINGS_FILE).write_text("{not json")
    with pytest.raises(PluginFailure, match=r"install\.py --plugin-only"):
        settings.load(tmp_path)
    (tmp_path / "latin1.toml").write_bytes(b'[server]\nendpoint = "caf\xe9"\n')
    write(tmp_path, {"config": str(tmp_path / "latin1.toml")})
    with pytest.raises(PluginFailure, match=r"cannot read the config file .*latin1\.toml.*--plugin-only"):
        settings.load(tmp_path)


def test_empty_endpoint_argument_uses_the_configured_one() -> None:
    configured = settings.Settings(client=ClientConfig("tcp://10.0.0.2:5555"))
    assert settings.resolve_endpoint("  ", configured) == "tcp://10.0.0.2:5555"
    assert settings.resolve_endpoint("ipc:///tmp/d", configured) == "ipc:///tmp/d"
