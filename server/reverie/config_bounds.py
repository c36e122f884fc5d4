"""The range each numeric setting may take: a value outside it is refused when the config is read, naming the key,
the file and the range, instead of crashing the start (``max_pixels = 2**63-1`` overflowed ZeroMQ's option),
failing every job (a tile ceiling under the smallest tile a job may ask for) or switching a guard off (a
connection allowance larger than the machine's memory).
"""

from __future__ import annotations

from reverie_wire import schema
from reverie_wire.errors import ConfigError

GIB = 1 << 30
# (lowest, highest) of each numeric key of [limits] and [server].
BOUNDS: dict[str, tuple[int, int]] = {
    # 16384² pixels: the largest frame (f32 RGBA) is then 4 GiB, what one connection may hold twice.
    "max_pixels": (1, 16384 * 16384),
    "max_side": (1, 65536),
    "max_queue": (1, 1024),
    "max_queue_bytes": (1, 256 * GIB),
    "max_connections": (1, 16384),
    # A job's tile_size is brought down to this ceiling, so it must be a tile size a job may ask for.
    "max_tile_size": (int(schema.field("tile_size").low or 0), int(schema.field("tile_size").high or 0)),
    "max_compiled": (1, 1024),
    "max_jobs_per_client": (1, 1024),
    "max_pixel_steps": (1, 10**15),
    "max_job_seconds": (1, 7 * 24 * 3600),
    "max_unread_bytes": (1 << 20, 256 * GIB),
    "unread_seconds": (1, 24 * 3600),
    # 0: a quarter of the machine's memory (reverie.serving.budget); it must hold one connection's allowance
    # (checked there).
    "memory_budget": (0, 4096 * GIB),
    "log_max_mb": (1, 1024),
    "log_backups": (1, 100),
}


def bounded(name: str, value: object, where: str) -> int:
    """``value`` if it is a whole number within ``name``'s range; else a ConfigError that says where and the
    range (``where``: "FILE: [limits]" or a command-line flag)."""
    low, high = BOUNDS[name]
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(f"{where} {name} must be a whole number from {low:,} to {high:,}; got {value!r}")
    return value
