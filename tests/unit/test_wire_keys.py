"""A client (the plug-in, the command line) talks to encrypted servers with the CURVE keys its config names."""

from __future__ import annotations

from pathlib import Path

import pytest
import zmq.auth

from reverie_wire.config import ClientConfig, KeyFiles, client_config
from reverie_wire.errors import ConfigError
from reverie_wire.keys import client_options


def config_with_keys(folder: Path, table: str) -> ClientConfig:
    (folder / "config.toml").write_text(f'[server]\nendpoint = "tcp://dreams.example:5555"\n\n[keys]\n{table}')
    return client_config(folder / "config.toml")


def private_pair(folder: Path, name: str) -> tuple[Path, Path]:
    public, secret = zmq.auth.create_certificates(folder, name)
    Path(secret).chmod(0o600)
    return Path(public), Path(secret)


def test_no_pinned_server_key_means_plain_connections() -> None:
    assert client_options(KeyFiles()) == {}


def test_pinned_server_key_and_own_key_pair(tmp_path: Path) -> None:
    server_public, _ = private_pair(tmp_path, "server")
    _, client_secret = private_pair(tmp_path, "client")
    configured = config_with_keys(tmp_path, f'server_public = "{server_public}"\nclient_secret = "{client_secret}"\n')
    assert configured.endpoint == "tcp://dreams.example:5555"
    options = client_options(configured.keys)
    assert options["server_public_key"] == zmq.auth.load_certificate(server_public)[0]
    assert options["client_keys"] == zmq.auth.load_certificate(client_secret)


def test_server_key_alone_uses_a_throwaway_client_key(tmp_path: Path) -> None:
    server_public, _ = private_pair(tmp_path, "server")
    options = client_options(config_with_keys(tmp_path, f'server_public = "{server_public}"\n').keys)
    assert set(options) == {"server_public_key"}


def test_unreadable_public_only_or_shared_key_files_say_what_to_do(tmp_path: Path) -> None:
    missing = config_with_keys(tmp_path, f'server_public = "{tmp_path / "absent.key"}"\n')
    with pytest.raises(ConfigError, match="copy the client's files"):
        client_options(missing.keys)
    server_public, _ = private_pair(tmp_path, "server")
    public_only = config_with_keys(tmp_path, f'server_public = "{server_public}"\nclient_secret = "{server_public}"\n')
    with pytest.raises(ConfigError, match="only a public key"):
        client_options(public_only.keys)
    _, client_secret = private_pair(tmp_path, "client")
    client_secret.chmod(0o644)
    shared = config_with_keys(tmp_path, f'server_public = "{server_public}"\nclient_secret = "{client_secret}"\n')
    with pytest.raises(ConfigError, match="chmod 600"):
        client_options(shared.keys)
