"""CURVE keys: making them (``reverie keys``), loading them, and locking a listening socket with them.

Loopback endpoints may run without keys; anything that can face a network must not.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import zmq
import zmq.auth
from zmq.auth.thread import ThreadAuthenticator

from reverie.config import KeyFiles
from reverie.errors import BadRequest
from reverie.protocol import is_loopback

SERVER, CLIENT = "server", "client"
AUTHORIZED = "authorized_clients"


def generate(directory: Path, *, force: bool = False) -> KeyFiles:
    """A server key pair, a client key pair, and the client's public key in the authorized directory."""
    server_secret = directory / f"{SERVER}.key_secret"
    if server_secret.exists() and not force:
        raise BadRequest(f"keys already exist in {directory}; pass --force to replace them (clients must then re-pin)")
    authorized = directory / AUTHORIZED
    if not directory.exists():  # a folder made here is private; an existing one keeps the mode its owner gave it
        directory.mkdir(mode=0o700, parents=True)
    authorized.mkdir(mode=0o700, exist_ok=True)
    zmq.auth.create_certificates(directory, SERVER)
    client_public, client_secret = zmq.auth.create_certificates(directory, CLIENT)
    shutil.copy(client_public, authorized / Path(client_public).name)
    for path in (server_secret, Path(client_secret)):
        path.chmod(0o600)
    return KeyFiles(
        server_secret=server_secret,
        authorized_clients=authorized,
        server_public=directory / f"{SERVER}.key",
        client_secret=Path(client_secret),
    )


def config_snippet(keys: KeyFiles) -> str:
    """The ``[keys]`` table that switches a config to these keys."""
    lines = ["[keys]"]
    for name in ("server_secret", "authorized_clients", "server_public", "client_secret"):
        lines.append(f'{name} = "{getattr(keys, name)}"')
    return "\n".join(lines)


def _load(path: Path, *, secret: bool) -> tuple[bytes, bytes | None]:
    try:
        public, secret_key = zmq.auth.load_certificate(path)
    except (OSError, ValueError) as error:
        raise BadRequest(f"cannot read the key file {path}: {error}; make keys with `reverie keys`") from None
    if secret and secret_key is None:
        raise BadRequest(f"{path} holds only a public key; point the config at the .key_secret file")
    if secret and path.stat().st_mode & 0o077:
        raise BadRequest(
            f"the secret key {path} can be read by other users of this machine; `chmod 600 {path}` "
            "(and make new keys with `reverie keys --force` if someone may have copied it)"
        )
    return public, secret_key


def client_options(keys: KeyFiles) -> dict[str, Any]:
    """``DreamClient`` keyword arguments for the configured keys (none when no server key is pinned)."""
    if keys.server_public is None:
        return {}
    server_public, _ = _load(keys.server_public, secret=False)
    if keys.client_secret is None:
        return {"server_public_key": server_public}
    public, secret = _load(keys.client_secret, secret=True)
    return {"server_public_key": server_public, "client_keys": (public, secret)}


def secure(socket: zmq.Socket, endpoint: str, keys: KeyFiles) -> ThreadAuthenticator | None:
    """Make ``socket`` a CURVE server when keys are configured; refuse a non-loopback bind without them.

    Returns the running authenticator, which the caller stops when it closes the socket.
    """
    if keys.server_secret is None:
        if not is_loopback(endpoint):
            raise BadRequest(
                f"refusing to listen on {endpoint} without encryption: anyone on the network could use "
                "this machine. Run `reverie keys` and add its [keys] table to the config, or bind 127.0.0.1"
            )
        return None
    public, secret = _load(keys.server_secret, secret=True)
    if keys.authorized_clients is None or not keys.authorized_clients.is_dir():
        raise BadRequest(
            f"[keys] authorized_clients must be a directory of client public keys, got {keys.authorized_clients}"
        )
    authenticator = ThreadAuthenticator(socket.context)
    authenticator.start()
    authenticator.configure_curve(domain="*", location=str(keys.authorized_clients))
    socket.curve_server = True
    socket.curve_publickey = public
    socket.curve_secretkey = secret
    return authenticator
