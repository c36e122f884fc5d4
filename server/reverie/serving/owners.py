"""Which connection each client's routing id belongs to: what a client is owed goes there and nowhere else."""

from __future__ import annotations

from reverie.serving import peers
from reverie.serving.jobs import Job

Route = tuple[bytes, ...]


class Owners:
    """Each client's connection, by its route; forgotten when the client is gone or owed nothing."""

    def __init__(self) -> None:
        self._connections: dict[Route, peers.Connection | None] = {}

    def routes(self) -> list[Route]:
        return list(self._connections)

    def connection(self, route: Route) -> peers.Connection | None:
        return self._connections.get(route)

    def taken_over(self, route: Route, connection: peers.Connection | None) -> bool:
        """Whether a request on ``connection`` came under an id whose first connection is gone (not its owner)."""
        return self._connections.get(route, connection) != connection

    def claim(self, route: Route, connection: peers.Connection | None) -> None:
        self._connections[route] = connection

    def forget(self, route: Route) -> None:
        self._connections.pop(route, None)

    def still_here(self, route: Route) -> bool:
        """Whether the connection that sent this client's requests is still open (not one that took its id)."""
        return route in self._connections and peers.still_open(self._connections[route])

    def own(self, job: Job) -> bool:
        """Whether the connection that submitted a job is still the one its client's id leads to."""
        return self._connections.get(job.envelope) == job.connection and self.still_here(job.envelope)
