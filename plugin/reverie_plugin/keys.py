"""CURVE keys for an encrypted dream server, read from the files the server's config names.

A server that faces the network only talks to clients that know its public key (and, usually, whose
own key it has authorised); ``reverie keys`` makes the files and prints the ``[keys]`` table.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import zmq.auth

from reverie_plugin.messages import PluginFailure
from reverie_plugin.settings import Settings


def _load(path: Path, secret: bool) -> tuple[bytes, bytes | None]:
    """A key file's (public, secret) keys; ``secret`` demands the secret half."""
    path = path.expanduser()
    try:
        public, secret_key = zmq.auth.load_certificate(path)
    except (OSError, ValueError) as error:
        raise PluginFailure(
            f"cannot read the key file {path} named in the Reverie config ({error}); copy it from the server "
            "or make keys with 'reverie keys'"
        ) from None
    if secret and secret_key is None:
        raise PluginFailure(f"{path} holds only a public key; point client_secret at the .key_secret file")
    return public, secret_key


def client_options(settings: Settings) -> dict[str, Any]:
    """DreamClient keyword arguments for the configured keys; none when no server key is pinned."""
    if settings.server_public is None:
        return {}
    server_public, _ = _load(Path(settings.server_public), secret=False)
    if settings.client_secret is None:
        return {"server_public_key": server_public}
    public, secret = _load(Path(settings.client_secret), secret=True)
    return {"server_public_key": server_public, "client_keys": (public, secret)}
