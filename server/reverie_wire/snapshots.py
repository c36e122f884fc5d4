"""Snapshots: a job may ask to see its image while it forms. The request's shape and the reply's header.

Standard library only, like ``protocol``. A dream request's optional
``snapshots`` object asks for them; the server then sends ``snapshot`` messages (header and u8 RGB pixels)
at most every ``every_ms`` and at the end of every octave. See server/reverie/PROTOCOL.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reverie_wire.errors import BadRequest

SNAPSHOT = "snapshot"
# Faster than a screen refreshes is pointless; larger than this is a result's job, not a preview's.
MIN_EVERY_MS, MAX_EVERY_MS = 50, 60_000
MIN_SIDE, MAX_SIDE = 16, 2048
PROGRESS_FIELDS = ("octave", "octaves", "step", "steps", "fraction")


@dataclass(frozen=True)
class SnapshotRequest:
    """How often (at most) and how large (at most, the long side) a job's snapshots are."""

    every_ms: int = 250
    max_side: int = 512

    def to_dict(self) -> dict[str, int]:
        return {"every_ms": self.every_ms, "max_side": self.max_side}


def _whole(name: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise BadRequest(f"snapshots.{name} must be a whole number from {low} to {high}, got {value!r}")
    return value


def snapshot_request(value: Any) -> SnapshotRequest | None:
    """The ``snapshots`` field of a dream request: absent or null means none."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise BadRequest('snapshots must be an object like {"every_ms": 250, "max_side": 512}')
    unknown = set(value) - {"every_ms", "max_side"}
    if unknown:
        raise BadRequest(f"snapshots takes every_ms and max_side, not {', '.join(sorted(map(str, unknown)))}")
    default = SnapshotRequest()
    return SnapshotRequest(
        _whole("every_ms", value.get("every_ms", default.every_ms), MIN_EVERY_MS, MAX_EVERY_MS),
        _whole("max_side", value.get("max_side", default.max_side), MIN_SIDE, MAX_SIDE),
    )


def keep_flag(value: Any) -> bool:
    """The ``keep`` field of a cancel: answer with the image as it is (a partial result) instead of cancelled."""
    if value is None:
        return False
    if not isinstance(value, bool):
        raise BadRequest(f"keep must be true or false, got {value!r}")
    return value
