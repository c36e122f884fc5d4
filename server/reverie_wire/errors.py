"""Errors a person can act on. One class per wire code, and one table from code to class that both ends use.

The server raises these and puts ``code`` and the message on the wire; the client turns the code back into
the same class with ``from_wire``. Errors that never travel (a local config, a client that gets no answer)
have codes of their own that are not in ``WIRE_ERRORS``.
"""

from __future__ import annotations


class ReverieError(Exception):
    """Base of every error Reverie reports to a person; ``code`` is stable across versions. ``job_id`` names the
    job an error concerns, where one does."""

    code = "internal"

    def __init__(self, message: str = "", job_id: str | None = None) -> None:
        super().__init__(message)
        self.job_id = job_id


class BadRequest(ReverieError):
    """A parameter or an image the caller sent cannot be used as it is."""

    code = "bad_request"


class ImageTooSmall(BadRequest):
    """The image is smaller than the model's smallest usable input."""

    code = "too_small"


class TooLarge(ReverieError):
    """The image or message exceeds a configured limit."""

    code = "too_large"


class UnknownLayer(BadRequest):
    """A layer name that the chosen model does not have."""

    code = "unknown_layer"


class UnknownModel(BadRequest):
    """A model name that is not in the registry."""

    code = "unknown_model"


class WeightsMissing(ReverieError):
    """Weights that cannot be loaded or downloaded; the message says where to put them."""

    code = "weights_missing"


class Busy(ReverieError):
    """The server's job queue is full."""

    code = "busy"


class DreamCancelled(ReverieError):
    """The job was cancelled before it finished."""

    code = "cancelled"


class VersionMismatch(ReverieError):
    """The peer speaks another protocol version."""

    code = "version_mismatch"


class UnknownJob(BadRequest):
    """A cancel for a job this server does not hold (finished, or never submitted here)."""

    code = "unknown_job"


# The wire's error codes, each with the class both ends raise for it.
WIRE_ERRORS: dict[str, type[ReverieError]] = {
    kind.code: kind
    for kind in (
        ReverieError,
        BadRequest,
        ImageTooSmall,
        TooLarge,
        UnknownLayer,
        UnknownModel,
        WeightsMissing,
        Busy,
        DreamCancelled,
        VersionMismatch,
        UnknownJob,
    )
}
ERROR_CODES = tuple(WIRE_ERRORS)


def from_wire(code: str, message: str, job_id: str | None = None) -> ReverieError:
    """The error an ``error`` reply carries; a code this release does not know keeps its code on a ReverieError."""
    kind = WIRE_ERRORS.get(code)
    if kind is not None:
        return kind(message, job_id)
    error = ReverieError(message, job_id)
    error.code = code
    return error


class ConfigError(ReverieError):
    """A local setting that cannot be used: the config file, a key file, an address to listen on."""

    code = "config"


class ClientError(ReverieError):
    """The client itself failed: no answer, a broken message, a request it cannot send."""

    code = "client_error"


class ServerNotRunning(ClientError):
    """Nothing answered at the endpoint."""

    code = "server_not_running"


class ClientTimeout(ClientError):
    """The server stopped answering in the middle of something."""

    code = "timeout"


class ConnectionLost(ClientError):
    """The connection dropped under a queued or running job; the server cancels a job whose client is gone."""

    code = "connection_lost"


class Unauthorized(ClientError):
    """The encrypted handshake failed: the server refused this client's key, or the pinned key is wrong."""

    code = "unauthorized"
