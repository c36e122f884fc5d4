"""An encrypted dream server (CURVE): the plug-in connects with the keys the Reverie config names.

``reverie keys`` makes the key files; the server's config names its secret key and the authorised
clients, the plug-in's config (paths as GIMP sees them) the server's public key and the client's pair.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Iterator

import pytest
import zmq.auth
from dream_server import REVERIE, SERVER_FLAGS, serving
from gimp_harness import Record, Workspace

pytestmark = pytest.mark.gimp


@pytest.fixture
def encrypted_endpoint(work: Workspace) -> Iterator[tuple[str, Workspace]]:
    """A server that only talks CURVE, and the key folder (host and GIMP paths)."""
    keys = work.sub("keys")
    subprocess.run([*REVERIE, "keys", "--dir", str(keys.host)], check=True, capture_output=True)
    config = work.host / "server.toml"
    config.write_text(
        f'[keys]\nserver_secret = "{keys.host / "server.key_secret"}"\n'
        f'authorized_clients = "{keys.host / "authorized_clients"}"\n'
    )
    server_public, _ = zmq.auth.load_certificate(keys.host / "server.key")
    client_keys = zmq.auth.load_certificate(keys.host / "client.key_secret")
    log = work.host / "encrypted-server.log"
    with serving(
        log, "--config", str(config), *SERVER_FLAGS, server_public_key=server_public, client_keys=client_keys
    ) as address:
        yield address, keys


def test_encrypted_server_needs_the_configured_keys(
    run_gimp: Callable[..., Record], gimp_dir: Workspace, work: Workspace, encrypted_endpoint: tuple[str, Workspace]
) -> None:
    address, keys = encrypted_endpoint
    plugin_config = work.host / "reverie.toml"
    plugin_config.write_text(
        f'[keys]\nserver_public = "{keys.inside / "server.key"}"\n'
        f'client_secret = "{keys.inside / "client.key_secret"}"\n'
    )
    settings = gimp_dir.inside / "plug-ins" / "reverie-dream" / "reverie-dream.json"
    without = json.dumps({"launcher": None, "config": None})
    with_keys = json.dumps({"launcher": None, "config": str(work.inside / "reverie.toml")})
    fast = f"endpoint={address!r}, model='mobilenet', octaves=1, steps=2"
    record = run_gimp(
        "image, layer = g.new_image(128, 96)\n"
        f"open({str(settings)!r}, 'w').write({without!r})\n"
        f"refused = g.dream(image, layer, {fast})\n"
        f"open({str(settings)!r}, 'w').write({with_keys!r})\n"
        f"accepted = g.dream(image, layer, {fast})\n"
        "rec.value('refused', [refused['status'], refused.get('message')])\n"
        "rec.value('accepted', [accepted['status'], accepted.get('message')])\n"
        "rec.value('seed', accepted.get('seed'))\n"
        "rec.layers('after', image)\n"
    )
    status, message = record.values["refused"]
    assert status == "execution-error"
    assert "requires encryption" in message and "[keys]" in message
    assert record.values["accepted"] == ["success", None]
    assert [entry["name"] for entry in record.values["after"]] == [f"Deep Dream #{record.values['seed']}", "artwork"]
