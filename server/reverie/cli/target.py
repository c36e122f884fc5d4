"""Where ``reverie dream`` dreams: the server ``--server`` names, else the configured server when it serves
the model and weights asked for, else this process. A running server is never skipped, nor a named one
used for other weights, without saying so."""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reverie.config import ServerConfig
from reverie.engine.registry import get_spec
from reverie.engine.weights import IMAGENET, RANDOM
from reverie_wire.client import DreamClient
from reverie_wire.errors import BadRequest, ReverieError, ServerNotRunning
from reverie_wire.keys import client_options


@dataclass(frozen=True)
class Target:
    """A connected client (None: dream in this process), what to dream with, and why a server was passed over."""

    client: DreamClient | None
    model: str
    weights: str
    note: str | None = None

    @property
    def where(self) -> str:
        """Where the dream runs, as the command's last line says it."""
        return "in this process" if self.client is None else f"on the server at {self.client.endpoint}"


def same_weights(first: str, second: str) -> bool:
    """Whether two ``--weights`` values name the same weights (a file by any path that leads to it)."""
    if first == second:
        return True
    keywords = {IMAGENET, RANDOM}
    if first in keywords or second in keywords:
        return False
    return Path(first).expanduser().resolve() == Path(second).expanduser().resolve()


def _serves(model: str | None, weights: str | None) -> str:
    """``inception_v3 with random weights``, or the part of it that was given."""
    parts = [model or "", f"with {weights} weights" if weights else ""]
    return " ".join(filter(None, parts))


def _matches(facts: dict[str, Any], model: str | None, weights: str | None) -> bool:
    return (model is None or get_spec(model).name == facts.get("model")) and (
        weights is None or same_weights(weights, str(facts.get("weights")))
    )


def _named(endpoint: str, model: str | None, weights: str | None, options: dict[str, Any]) -> Target:
    """The server ``--server`` names: it must answer and serve what ``--model``/``--weights`` ask, if given."""
    client = DreamClient(endpoint, **options)
    try:
        facts = client.probe()
        if facts is None:
            raise ServerNotRunning(
                f"nothing accepts connections at {endpoint}; start a server there with "
                f"`reverie start --endpoint {endpoint}`, or check the endpoint"
            )
        if not _matches(facts, model, weights):
            served = _serves(facts["model"], facts["weights"])
            raise BadRequest(
                f"the dream server at {endpoint} serves {served}, not {_serves(model, weights)}; drop --model and "
                f"--weights to dream with what it serves, or start a server with the ones you want "
                f"(`reverie start --endpoint ENDPOINT --model M --weights W`)"
            )
    except BaseException:
        client.close()
        raise
    return Target(client, facts["model"], facts["weights"])


def choose(server: str | None, local: bool, model: str | None, weights: str | None, config: ServerConfig) -> Target:
    """Where to dream; ``model`` and ``weights`` are the flags (None: not given, so the config's)."""
    options = client_options(config.keys)
    if server is not None:
        return _named(server, model, weights, options)
    model, weights = get_spec(model or config.model).name, weights or config.weights
    if local:
        return Target(None, model, weights)
    endpoint = config.endpoint
    client = DreamClient(endpoint, **options)
    try:
        facts = client.probe()
    except ReverieError as error:
        client.close()
        return Target(None, model, weights, f"the dream server at {endpoint} cannot be used ({error}); dreaming here")
    if facts is None:
        client.close()
        return Target(None, model, weights)
    if _matches(facts, model, weights):
        return Target(client, model, weights)
    client.close()
    served = _serves(facts["model"], facts["weights"])
    return Target(
        None,
        model,
        weights,
        f"the dream server at {endpoint} serves {served}, not {_serves(model, weights)}, so this dream runs in "
        f"this process; pass --model {facts['model']} --weights {facts['weights']} to dream on that server",
    )


@contextlib.contextmanager
def opened(args: argparse.Namespace, config: ServerConfig) -> Iterator[Target]:
    """The target a command's ``--server``/``--local``/``--model``/``--weights`` choose, its note said on
    stderr, its connection closed when the command is done."""
    target = choose(args.server, args.local, args.model, args.weights, config)
    with contextlib.ExitStack() as cleanup:
        if target.client is not None:
            cleanup.enter_context(target.client)
        if target.note is not None:
            print(f"reverie: note: {target.note}", file=sys.stderr)
        yield target
