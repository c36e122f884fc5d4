"""CURVE keys: making them (``reverie keys``) and locking a listening socket with them.

Loopback endpoints may run without keys; anything that can face a network must not. Loading them for a
client is ``reverie_wire.keys``'s.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import zmq
import zmq.auth
from zmq.auth.thread import ThreadAuthenticator

from reverie_wire.config import KEY_NAMES, KeyFiles
from reverie_wire.errors import ConfigError
from reverie_wire.keys import load_key
from reverie_wire.protocol import is_loopback

SERVER, CLIENT = "server", "client"
AUTHORIZED = "authorized_clients"


def generate(directory: Path, *, force: bool = False) -> KeyFiles:
    """A server key pair, a client key pair, and the client's public key in the authorized directory."""
    server_secret = directory / f"{SERVER}.key_secret"
    if server_secret.exists() and not force:
        raise ConfigError(f"keys already exist in {directory}; pass --force to replace them (clients must then re-pin)")
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
    for name in KEY_NAMES:
        lines.append(f'{name} = "{getattr(keys, name)}"')
    return "\n".join(lines)


def secure(socket: zmq.Socket, endpoint: str, keys: KeyFiles) -> ThreadAuthenticator | None:
    """Make ``socket`` a CURVE server when keys are configured; refuse a non-loopback bind without them.

    Returns the running authenticator, which the caller stops when it closes the socket.
    """
    if keys.server_secret is None:
        if not is_loopback(endpoint):
            raise ConfigError(
                f"refusing to listen on {endpoint} without encryption: anyone on the network could use "
                "this machine. Run `reverie keys` and add its [keys] table to the config, or bind 127.0.0.1"
            )
        return None
    public, secret = load_key(keys.server_secret, secret=True)
    if keys.authorized_clients is None or not keys.authorized_clients.is_dir():
        raise ConfigError(
            f"[keys] authorized_clients must be a directory of client public keys, got {keys.authorized_clients}"
        )
    authenticator = ThreadAuthenticator(socket.context)
    authenticator.start()
    authenticator.configure_curve(domain="*", location=str(keys.authorized_clients))
    socket.curve_server = True
    socket.curve_publickey = public
    socket.curve_secretkey = secret
    return authenticator
