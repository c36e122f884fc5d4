"""Errors a person can act on, each with a stable code the protocol carries.

Standard library only, so the plug-in and the client can share it with the server.
"""

from __future__ import annotations


class ReverieError(Exception):
    """Base of every error Reverie reports to a person; ``code`` is stable across versions."""

    code = "internal"


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
