"""The plug-in talks to encrypted servers with the CURVE keys the Reverie config names."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import zmq.auth

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "plugin"))

from reverie_plugin import keys, settings
from reverie_plugin.messages import PluginFailure


def config_with_keys(folder: Path, table: str) -> settings.Settings:
    (folder / "config.toml").write_text(f'[server]\nendpoint = "tcp://dreams.example:5555"\n\n[keys]\n{table}')
    return settings.read_config(folder / "config.toml", launcher=None)


def test_no_pinned_server_key_means_plain_connections(tmp_path: Path) -> None:
    assert keys.client_options(settings.Settings()) == {}


def test_pinned_server_key_and_own_key_pair(tmp_path: Path) -> None:
    server_public, _ = zmq.auth.create_certificates(tmp_path, "server")
    _, client_secret = zmq.auth.create_certificates(tmp_path, "client")
    configured = config_with_keys(tmp_path, f'server_public = "{server_public}"\nclient_secret = "{client_secret}"\n')
    assert configured.endpoint == "tcp://dreams.example:5555"
    options = keys.client_options(configured)
    assert options["server_public_key"] == zmq.auth.load_certificate(server_public)[0]
    assert options["client_keys"] == zmq.auth.load_certificate(client_secret)


def test_server_key_alone_uses_a_throwaway_client_key(tmp_path: Path) -> None:
    server_public, _ = zmq.auth.create_certificates(tmp_path, "server")
    options = keys.client_options(config_with_keys(tmp_path, f'server_public = "{server_public}"\n'))
    assert set(options) == {"server_public_key"}


def test_unreadable_or_public_only_key_files_say_what_to_do(tmp_path: Path) -> None:
    missing = config_with_keys(tmp_path, f'server_public = "{tmp_path / "absent.key"}"\n')
    with pytest.raises(PluginFailure, match="copy it from the server"):
        keys.client_options(missing)
    server_public, _ = zmq.auth.create_certificates(tmp_path, "server")
    public_only = config_with_keys(tmp_path, f'server_public = "{server_public}"\nclient_secret = "{server_public}"\n')
    with pytest.raises(PluginFailure, match="only a public key"):
        keys.client_options(public_only)
