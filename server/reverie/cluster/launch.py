"""Starting a cluster's front, with a clear error where Ray is missing (this module imports no Ray itself)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from reverie_wire.errors import ConfigError

if TYPE_CHECKING:
    from reverie.config import ServerConfig
    from reverie.serving.server import DreamServer


def serving(config: ServerConfig) -> DreamServer:
    """The cluster's front for ``config`` (its ``cluster`` set); ConfigError when Ray is not installed."""
    try:
        import ray  # noqa: F401
    except ImportError:
        raise ConfigError(
            "--cluster needs Ray, which this installation lacks; install it with `pip install 'reverie[cluster]'`"
        ) from None
    from reverie.cluster.front import ClusterServer

    return ClusterServer(config)
