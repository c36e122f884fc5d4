"""The ``[cluster]`` table and ``--cluster``: where the Ray cluster is, what each dreamer asks of it (no Ray)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reverie_wire.errors import ConfigError

KEYS = ("address", "dreamers", "gpus_per_dreamer", "cpus_per_dreamer")
# ``--cluster local:N``: a Ray cluster started on this machine for the server's lifetime, with N dreamers.
LOCAL = "local"
_ADDRESS_HELP = 'a Ray address ("auto", "HOST:PORT" or "ray://HOST:PORT") or "local:N"'
# The most dreamers, and the most GPUs or CPUs one may ask for: beyond them a typo, never a cluster (Ray would try
# to start every actor asked for, and wait forever for resources no node has).
MAX_DREAMERS = 1024
MAX_PER_DREAMER = 1024


@dataclass(frozen=True)
class ClusterSettings:
    """Where the dreamers run: ``address`` is Ray's (``local`` starts one here); None fields are found from the
    cluster's resources at start (one dreamer per GPU, else one per node; one GPU each where there are GPUs)."""

    address: str
    dreamers: int | None = None
    gpus_per_dreamer: float | None = None
    cpus_per_dreamer: float = 1.0


def parse_address(text: str, dreamers: int | None = None) -> ClusterSettings:
    """``--cluster``'s value: a Ray address, or ``local:N``."""
    text = text.strip()
    if not text:
        raise ConfigError(f"cluster address must be {_ADDRESS_HELP}; got an empty one")
    if text.split(":", 1)[0] != LOCAL:
        return ClusterSettings(text, dreamers)
    count = text.partition(":")[2]
    if not count.isdigit() or not 1 <= int(count) <= MAX_DREAMERS:
        raise ConfigError(
            f'cluster address "local:N" needs a dreamer count N of at least 1 and at most {MAX_DREAMERS:,}; '
            f"got {text!r}"
        )
    return ClusterSettings(LOCAL, int(count))


def _number(section: Mapping[str, Any], name: str, source: Path, *, whole: bool) -> Any:
    value = section[name]
    kinds = (int,) if whole else (int, float)
    high = MAX_DREAMERS if whole else MAX_PER_DREAMER
    if isinstance(value, bool) or not isinstance(value, kinds) or not (1 if whole else 0) <= value <= high:
        wanted = f"a positive whole number up to {high:,}" if whole else f"a number from 0 to {high:,}"
        raise ConfigError(f"{source}: [cluster] {name} must be {wanted}, got {value!r}")
    return value


def parse_cluster(section: Mapping[str, Any], source: Path) -> ClusterSettings | None:
    """The ``[cluster]`` table (its keys already checked against ``KEYS``); None when it is empty."""
    if not section:
        return None
    address = section.get("address")
    if not isinstance(address, str):
        raise ConfigError(f"{source}: [cluster] address must be {_ADDRESS_HELP}, got {address!r}")
    try:
        settings = parse_address(address)
    except ConfigError as error:
        raise ConfigError(f"{source}: [cluster] {error}") from None
    dreamers = settings.dreamers
    if "dreamers" in section:
        dreamers = _number(section, "dreamers", source, whole=True)
    gpus = float(_number(section, "gpus_per_dreamer", source, whole=False)) if "gpus_per_dreamer" in section else None
    cpus = float(_number(section, "cpus_per_dreamer", source, whole=False)) if "cpus_per_dreamer" in section else 1.0
    return ClusterSettings(settings.address, dreamers, gpus, cpus)
