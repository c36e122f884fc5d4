"""CURVE: no unencrypted server beyond loopback; with keys, only authorized clients get in."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import zmq
from server_harness import MODEL_ARGS, TINY, Server, free_endpoint, image, layout, reverie, start_server, user_env

from reverie.config import load_config
from reverie_wire.client import DreamClient, Result
from reverie_wire.errors import Unauthorized
from reverie_wire.keys import client_options


@pytest.fixture(scope="module")
def keyed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path, dict[str, Any]]]:
    home = tmp_path_factory.mktemp("curve")
    env = user_env(home)
    made = reverie("keys", "--dir", str(home / "keys"), env=env)
    assert made.returncode == 0, made
    snippet = made.stdout[made.stdout.index("[keys]") :]
    config = home / "reverie.toml"
    config.write_text(snippet)
    options = client_options(load_config(config).keys)
    server = start_server(home, "--config", str(config), env=env, client_options=options)
    yield server, config, options
    assert server.stop() == 0


def test_binding_beyond_loopback_without_keys_is_refused(tmp_path: Path) -> None:
    port = free_endpoint().rsplit(":", 1)[1]
    refused = reverie("serve", "--endpoint", f"tcp://0.0.0.0:{port}", *MODEL_ARGS, env=user_env(tmp_path))
    assert refused.returncode == 1
    assert "refusing to listen on tcp://0.0.0.0" in refused.stderr and "reverie keys" in refused.stderr


def test_a_keyed_client_dreams_over_curve(keyed: tuple[Server, Path, dict[str, Any]]) -> None:
    server, _, options = keyed
    pixels = image(96, 96, 3, "u8")
    with DreamClient(server.endpoint, **options) as client:
        assert client.hello()["encrypted"] is True
        result = client.run(pixels.tobytes(), params={**TINY, "seed": 4}, **layout(pixels))
    assert isinstance(result, Result) and result.seed == 4


def test_a_client_without_keys_is_refused(keyed: tuple[Server, Path, dict[str, Any]]) -> None:
    server, _, _ = keyed
    with DreamClient(server.endpoint, timeout=0.5, retries=1) as client, pytest.raises(Unauthorized) as caught:
        client.hello()
    assert "requires encryption" in str(caught.value)


def test_a_client_with_an_unknown_key_is_refused(keyed: tuple[Server, Path, dict[str, Any]]) -> None:
    server, _, options = keyed
    stranger = zmq.curve_keypair()
    client = DreamClient(
        server.endpoint, timeout=0.5, retries=1, server_public_key=options["server_public_key"], client_keys=stranger
    )
    with client, pytest.raises(Unauthorized, match="refused this client's key"):
        client.hello()


def test_a_client_pinning_the_wrong_server_key_is_refused(keyed: tuple[Server, Path, dict[str, Any]]) -> None:
    server, _, options = keyed
    impostor_key, _ = zmq.curve_keypair()
    client = DreamClient(
        server.endpoint, timeout=0.5, retries=1, server_public_key=impostor_key, client_keys=options["client_keys"]
    )
    with client, pytest.raises(Unauthorized, match="pinned server"):
        client.hello()


def test_status_uses_the_configured_client_keys(keyed: tuple[Server, Path, dict[str, Any]], tmp_path: Path) -> None:
    server, config, _ = keyed
    status = reverie("status", "--config", str(config), "--endpoint", server.endpoint, env=user_env(tmp_path))
    assert status.returncode == 0, status
    assert "ready, encrypted" in status.stdout
