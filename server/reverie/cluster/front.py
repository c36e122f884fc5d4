"""The cluster's front: the single server's ZeroMQ side as it is (protocol, keys, validation, each client's share,
limits), with its jobs dreamed by the cluster's dreamers instead of its own worker thread."""

from __future__ import annotations

import threading
from typing import Any

from reverie.cluster.dispatch import AgainQueue, ClusterWorker
from reverie.config import ServerConfig
from reverie.serving.job_book import JobBook
from reverie.serving.jobs import Job
from reverie.serving.server import STOP_GRACE, DreamServer

# How long a stopping front waits for Ray to let go of the dreamers (a local cluster's processes end with it).
RAY_SHUTDOWN_SECONDS = 20.0


class ClusterServer(DreamServer):
    """A dream server whose worker is the cluster; ``hello`` adds ``cluster`` and ``dreamers``."""

    serves_atlas = False

    def __init__(self, config: ServerConfig) -> None:
        assert config.cluster is not None
        super().__init__(config)
        self._again = AgainQueue(config.limits.max_queue, config.limits.max_queue_bytes)
        self._book = JobBook(self._again)
        self._cluster: ClusterWorker | None = None

    def _make_worker(self) -> threading.Thread:
        config = self.config
        assert config.cluster is not None
        dreamer_args = (self.spec.name, config.weights, self.limits.max_compiled, config.warm_up)
        self._cluster = ClusterWorker(self._events, self._again, config.cluster, dreamer_args, config.backend)
        self._again.on_close = self._cluster.pool_closed
        return self._cluster

    def serve(self) -> int:
        code = super().serve()
        if self._cluster is not None:
            self._cluster.join(STOP_GRACE + RAY_SHUTDOWN_SECONDS)
        return code

    def _accepted(self, job: Job, position: int, ahead: int) -> None:
        """``ahead``: the jobs this one waits for, which are fewer than those before it by the dreamers at work."""
        dreamers = 0 if self._cluster is None else self._cluster.working()
        super()._accepted(job, position, max(0, ahead - dreamers + 1) if dreamers else ahead)

    def facts(self) -> dict[str, Any]:
        facts = super().facts()
        if self._cluster is not None:
            cluster = self._cluster.describe()
            devices = cluster.pop("devices")
            facts.update(cluster)
            if devices:
                facts["device"] = ", ".join(devices)
        return facts
