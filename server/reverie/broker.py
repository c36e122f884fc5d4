"""Scale-out: several dream servers behind one endpoint, through ZeroMQ's own proxy (``zmq.proxy``).

Clients connect to the broker's ROUTER exactly as to a server; its DEALER connects to every
server and hands each request to the next one in turn. Replies find their way back through the
routing envelope. See PROTOCOL.md for what a broker cannot do (notice a vanished client).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import zmq

from reverie import keys
from reverie.config import KeyFiles
from reverie.errors import BadRequest
from reverie.protocol import Limits

log = logging.getLogger("reverie.broker")


def run_broker(frontend: str, backends: Sequence[str], key_files: KeyFiles, limits: Limits) -> None:
    """Serve until the process is stopped; raises BadRequest for an unusable endpoint or key."""
    if not backends:
        raise BadRequest("a broker needs at least one --backend server endpoint")
    context = zmq.Context()
    front = context.socket(zmq.ROUTER)
    front.setsockopt(zmq.MAXMSGSIZE, limits.max_message_bytes)
    authenticator = keys.secure(front, frontend, key_files)
    back = context.socket(zmq.DEALER)
    back.setsockopt(zmq.IMMEDIATE, 1)  # hand requests only to servers that are connected
    options = keys.client_options(key_files)
    if "server_public_key" in options:
        public, secret = options.get("client_keys") or zmq.curve_keypair()
        back.curve_serverkey = options["server_public_key"]
        back.curve_publickey = public
        back.curve_secretkey = secret
    try:
        front.bind(frontend)
        for backend in backends:
            back.connect(backend)
    except zmq.ZMQError as error:
        raise BadRequest(f"cannot use the broker endpoints: {error}") from None
    log.info("broker on %s in front of %s", frontend, ", ".join(backends))
    try:
        zmq.proxy(front, back)
    finally:
        front.close(linger=0)
        back.close(linger=0)
        if authenticator is not None:
            authenticator.stop()
        context.term()
