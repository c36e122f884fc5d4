"""CURVE key files and the rule that only loopback may go unencrypted."""

from __future__ import annotations

from pathlib import Path

import pytest
import zmq

from reverie import config, keys
from reverie_wire.errors import ConfigError
from reverie_wire.keys import client_options


def test_generate_makes_both_pairs_and_authorizes_the_client(tmp_path: Path) -> None:
    made = keys.generate(tmp_path / "keys")
    assert made.server_secret.is_file() and made.server_public.is_file() and made.client_secret.is_file()
    assert (made.authorized_clients / "client.key").is_file()
    assert made.server_secret.stat().st_mode & 0o077 == 0
    options = client_options(made)
    assert len(options["server_public_key"]) == 40
    public, secret = options["client_keys"]
    assert len(public) == 40 and len(secret) == 40


def test_generate_will_not_overwrite_without_force(tmp_path: Path) -> None:
    first = keys.generate(tmp_path)
    before = first.server_secret.read_bytes()
    with pytest.raises(ConfigError, match="--force"):
        keys.generate(tmp_path)
    keys.generate(tmp_path, force=True)
    assert first.server_secret.read_bytes() != before


def test_the_printed_snippet_is_a_valid_config(tmp_path: Path) -> None:
    made = keys.generate(tmp_path)
    (tmp_path / "c.toml").write_text(keys.config_snippet(made))
    parsed = config.load_config(tmp_path / "c.toml")
    assert parsed.keys == made


def test_no_keys_means_no_client_options() -> None:
    assert client_options(config.KeyFiles()) == {}


def test_a_public_key_file_cannot_stand_in_for_a_secret(tmp_path: Path) -> None:
    made = keys.generate(tmp_path)
    with pytest.raises(ConfigError, match="only a public key"):
        client_options(config.KeyFiles(server_public=made.server_public, client_secret=made.server_public))


@pytest.mark.parametrize("endpoint", ["tcp://0.0.0.0:5555", "tcp://*:5555", "tcp://10.1.2.3:5555"])
def test_non_loopback_without_keys_is_refused(endpoint: str) -> None:
    with zmq.Context() as context, context.socket(zmq.ROUTER) as socket:
        with pytest.raises(ConfigError, match="without encryption"):
            keys.secure(socket, endpoint, config.KeyFiles())
        assert socket.get(zmq.LAST_ENDPOINT) == b""


def test_non_loopback_with_keys_becomes_a_curve_server(tmp_path: Path) -> None:
    made = keys.generate(tmp_path)
    with zmq.Context() as context, context.socket(zmq.ROUTER) as socket:
        authenticator = keys.secure(socket, "tcp://0.0.0.0:5555", made)
        try:
            assert authenticator is not None and authenticator.is_alive()
            assert socket.curve_server == 1
        finally:
            authenticator.stop()
        socket.linger = 0


def test_loopback_without_keys_stays_plain() -> None:
    with zmq.Context() as context, context.socket(zmq.ROUTER) as socket:
        assert keys.secure(socket, "tcp://127.0.0.1:5555", config.KeyFiles()) is None
        assert socket.curve_server == 0
