"""Loading CURVE key files for a client: the server's pinned public key and the client's own pair.

Making keys and locking a listening socket with them are the server's (``reverie.keys``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import zmq.auth

from reverie_wire.config import KeyFiles
from reverie_wire.errors import ConfigError


def load_key(path: Path, *, secret: bool) -> tuple[bytes, bytes | None]:
    """A key file's ``(public, secret)`` keys; ``secret`` demands the secret half, readable by its owner alone."""
    try:
        public, secret_key = zmq.auth.load_certificate(path)
    except (OSError, ValueError) as error:
        raise ConfigError(
            f"cannot read the key file {path}: {error}; make keys with `reverie keys` on the server and copy "
            "the client's files from there"
        ) from None
    if not secret:
        return public, secret_key
    if secret_key is None:
        raise ConfigError(f"{path} holds only a public key; point the config at the .key_secret file")
    if path.stat().st_mode & 0o077:
        raise ConfigError(
            f"the secret key {path} can be read by other users of this machine; `chmod 600 {path}` "
            "(and make new keys with `reverie keys --force` if someone may have copied it)"
        )
    return public, secret_key


def client_options(keys: KeyFiles) -> dict[str, Any]:
    """``DreamClient`` keyword arguments for the configured keys (none when no server key is pinned)."""
    if keys.server_public is None:
        return {}
    server_public, _ = load_key(keys.server_public, secret=False)
    if keys.client_secret is None:
        return {"server_public_key": server_public}
    public, secret = load_key(keys.client_secret, secret=True)
    return {"server_public_key": server_public, "client_keys": (public, secret)}
