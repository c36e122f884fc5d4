"""A job as the server holds it, and the order a dreamer is sent: one way to make each from the other.

A dream's extra images travel by name (``reverie_wire.protocol.EXTRA_FRAMES``) from the request to the engine;
``ENGINE_INPUTS`` says what each becomes for ``reverie.engine.dream``, whose keyword of the same name takes it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from reverie.engine import DreamParams
from reverie.imaging.carried import carried_start
from reverie.imaging.pixels import DTYPES, strength_map, to_dream_input
from reverie_wire.atlas import AtlasOrder
from reverie_wire.images import Image
from reverie_wire.protocol import GUIDE, PREVIOUS, PREVIOUS_SOURCE, STRENGTH
from reverie_wire.snapshots import SnapshotRequest

# Each extra image as the engine takes it: a guide float RGB in [0, 1], a strength map H×W float32.
ENGINE_INPUTS: dict[str, Callable[[np.ndarray], np.ndarray]] = {GUIDE: to_dream_input, STRENGTH: strength_map}


def array(image: Image) -> np.ndarray:
    """An image's pixels as the H×W×C array its layout declares, without copying."""
    return np.frombuffer(image.pixels, dtype=DTYPES[image.dtype]).reshape(image.height, image.width, image.channels)


@dataclass(frozen=True)
class Order:
    """What dreaming a job needs, all a cluster's dreamer is sent: everything but the client, which only the
    server knows."""

    serial: int
    job_id: str
    params: DreamParams
    image: Image
    extras: Mapping[str, Image] = field(default_factory=dict)
    snapshots: SnapshotRequest | None = None
    # An atlas request: its sheet is rendered instead of a dream (``image`` is the sheet's layout, no pixels).
    atlas: AtlasOrder | None = None

    def with_pixels(self, convert: Callable[[Any], Any]) -> Order:
        """The same order over ``convert`` of each image's pixels (another view of each buffer)."""
        extras = {name: extra.with_pixels(convert) for name, extra in self.extras.items()}
        return replace(self, image=self.image.with_pixels(convert), extras=extras)


@dataclass(eq=False)
class Job:
    """One accepted dream; its images' pixels are the received frames, used without copying."""

    serial: int
    envelope: tuple[bytes, ...]
    job_id: str
    params: DreamParams
    image: Image
    extras: Mapping[str, Image] = field(default_factory=dict)
    snapshots: SnapshotRequest | None = None
    received: float = field(default_factory=time.monotonic)
    cancel: threading.Event = field(default_factory=threading.Event)
    connection: Any = None  # the connection that sent it, which alone is told about it (reverie.peers)
    peer: Any = None  # who sent it, for its share of the queue (``reverie.peers.peer_of``)
    # Set before ``cancel`` by a stop that keeps: the worker then answers with the image as it is.
    keep: bool = False
    atlas: AtlasOrder | None = None  # as the order's

    @classmethod
    def of(cls, order: Order, envelope: tuple[bytes, ...] = ()) -> Job:
        """The one way a job is made: from its order (the server makes one of each request, a dreamer is sent
        one), for the client behind ``envelope`` (none on a dreamer)."""
        return cls(
            order.serial,
            envelope,
            order.job_id,
            order.params,
            order.image,
            order.extras,
            order.snapshots,
            atlas=order.atlas,
        )

    def order(self) -> Order:
        return Order(self.serial, self.job_id, self.params, self.image, self.extras, self.snapshots, self.atlas)

    @property
    def nbytes(self) -> int:
        """The pixels the job holds: its image's and its extra images'."""
        return self.image.nbytes + sum(extra.nbytes for extra in self.extras.values())

    def engine_inputs(self) -> dict[str, np.ndarray]:
        """The extra images as ``reverie.engine.dream`` takes them, by its keywords (a clip's previous frames
        make the image it starts from instead: ``start``)."""
        return {name: ENGINE_INPUTS[name](array(extra)) for name, extra in self.extras.items() if name not in PREVIOUS}

    def start(self, source: np.ndarray) -> np.ndarray:
        """What the dream starts from: ``source`` (float RGB), or for a clip's frame sent with the previous one,
        the previous dream carried onto it along the motion between the two source frames."""
        if PREVIOUS_SOURCE not in self.extras:
            return source
        previous_source, previous_dream = (to_dream_input(array(self.extras[name])) for name in PREVIOUS)
        return carried_start(source, previous_source, previous_dream)[0]
