"""Dream again: what a dream layer's ``reverie-dream`` parasite records of the dialog's settings and of the
server, and how a later dialog restores them. Pure (no GIMP), so it is tested on its own.

The parasite's "settings" are the procedure's values as the artist set them (the guide layer and the
strength channel by name, the
seed the dream used); its "server" is what hello said of the server that dreamed it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# What identifies the server's dreaming: another model, weights, engine version or backend may dream otherwise.
SERVER_FACTS = ("model", "weights", "version", "backend")
# Values that are GIMP items, recorded by name and looked up again by the caller.
BY_NAME = ("guide", "strength")


def settings_record(values: Mapping[str, Any], seed: int) -> dict[str, Any]:
    """The procedure's values as JSON: the guide layer and strength channel by their names, the seed the dream
    used, no "preview"."""
    record = {name: value for name, value in values.items() if name not in (*BY_NAME, "preview")}
    for name in BY_NAME:
        if name in values:
            record[name] = None if values[name] is None else values[name].get_name()
    record["seed"] = seed
    return record


def server_record(facts: Mapping[str, Any]) -> dict[str, Any]:
    """The server's identity from its hello facts."""
    return {name: facts.get(name) for name in SERVER_FACTS}


def differences(recorded: Mapping[str, Any], facts: Mapping[str, Any]) -> list[str]:
    """How the server now answering differs from the one that made a dream, e.g. ["model mobilenet (the dream's:
    inception_v3)"]; empty when it is the same (or the dream recorded no server)."""
    now = server_record(facts)
    return [
        f"{name} {now[name]} (the dream's: {recorded[name]})"
        for name in SERVER_FACTS
        if name in recorded and recorded[name] != now[name]
    ]


def restorable(details: Mapping[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    """The recorded settings a procedure with arguments ``names`` takes back (the guide, a layer, and the
    strength, a channel, are looked up by the caller)."""
    settings = details.get("settings") or {}
    return {name: settings[name] for name in names if name in settings and name not in (*BY_NAME, "preview")}
