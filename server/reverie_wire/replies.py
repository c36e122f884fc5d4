"""The server's replies as typed values, each with its one ``encode`` (the JSON header; ``frames`` are the pixels
after it) and ``decode`` (from a header and its pixel frame, as the client receives them).

Standard library only, like ``protocol``: the server sends these, the client hands most of them to its caller as
its events. See server/reverie/PROTOCOL.md for each message's fields.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Union

from reverie_wire.atlas import Sheet
from reverie_wire.errors import ReverieError, from_wire
from reverie_wire.images import ImageSpec
from reverie_wire.protocol import ACCEPTED, CANCELLED, ERROR, HEARTBEAT, HELLO, PROGRESS, RESULT
from reverie_wire.snapshots import PROGRESS_FIELDS, SNAPSHOT

# The replies after which a job is over.
FINAL_TYPES = (RESULT, CANCELLED, ERROR)


def _seconds_left(value: Any) -> float | None:
    """The optional estimate of a progress message: a finite number ≥ 0, else none at all."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        return None
    return float(value)


class _HeaderOnly:
    """A reply without pixels."""

    @property
    def frames(self) -> tuple[Any, ...]:
        return ()


@dataclass(frozen=True)
class Welcome(_HeaderOnly):
    """The answer to ``hello``: the server's facts (``server``), and the ``req`` the hello named."""

    type: ClassVar[str] = HELLO
    req: str | None
    server: dict[str, Any]

    def encode(self) -> dict[str, Any]:
        return {"type": HELLO, "req": self.req, "server": self.server}

    @classmethod
    def decode(cls, header: Mapping[str, Any], payload: Any = None) -> Welcome:
        server, req = header.get("server"), header.get("req")
        if not isinstance(server, dict) or not isinstance(server.get("limits"), dict):
            raise ValueError("hello came without the server's facts")
        return cls(req if isinstance(req, str) else None, server)


@dataclass(frozen=True)
class Accepted(_HeaderOnly):
    """The job is queued: ``position`` jobs wait before it, ``ahead`` run before it (sent again as it moves up)."""

    type: ClassVar[str] = ACCEPTED
    job_id: str
    position: int
    ahead: int

    def encode(self) -> dict[str, Any]:
        return {"type": ACCEPTED, "job": self.job_id, "position": self.position, "ahead": self.ahead}

    @classmethod
    def decode(cls, header: Mapping[str, Any], payload: Any = None) -> Accepted:
        def whole(name: str) -> int:  # the client reads what it can: a missing count is 0
            value = header.get(name)
            return value if isinstance(value, int) and not isinstance(value, bool) else 0

        return cls(header["job"], whole("position"), whole("ahead"))


@dataclass(frozen=True)
class Progress(_HeaderOnly):
    """One gradient step done (at most about ten a second); octave and step count from 1; the server's
    estimate of the seconds the dream has left, None when it sent none (an older server, or no step timed yet)."""

    type: ClassVar[str] = PROGRESS
    job_id: str
    fraction: float
    octave: int
    octaves: int
    step: int
    steps: int
    tiles: int
    seconds_left: float | None = None

    def encode(self) -> dict[str, Any]:
        header = {
            "type": PROGRESS,
            "job": self.job_id,
            "fraction": self.fraction,
            "octave": self.octave,
            "octaves": self.octaves,
            "step": self.step,
            "steps": self.steps,
            "tiles": self.tiles,
        }
        return header if self.seconds_left is None else {**header, "seconds_left": self.seconds_left}

    @classmethod
    def decode(cls, header: Mapping[str, Any], payload: Any = None) -> Progress:
        return cls(
            header["job"],
            float(header["fraction"]),
            int(header["octave"]),
            int(header["octaves"]),
            int(header["step"]),
            int(header["steps"]),
            int(header["tiles"]),
            _seconds_left(header.get("seconds_left")),
        )


@dataclass(frozen=True)
class Snapshot:
    """The image as the dream has formed it so far (for jobs submitted with ``snapshots``): u8 RGB, its long
    side at most the requested ``max_side``; ``octave_done`` marks an octave's last step."""

    type: ClassVar[str] = SNAPSHOT
    job_id: str
    pixels: Any = field(repr=False)
    width: int
    height: int
    octave: int
    octaves: int
    step: int
    steps: int
    fraction: float
    octave_done: bool

    def encode(self) -> dict[str, Any]:
        image = ImageSpec(self.width, self.height, 3, "u8").to_dict()
        fields = {name: getattr(self, name) for name in PROGRESS_FIELDS}
        return {"type": SNAPSHOT, "job": self.job_id, **fields, "octave_done": self.octave_done, "image": image}

    @property
    def frames(self) -> tuple[Any, ...]:
        return (self.pixels,)

    @classmethod
    def decode(cls, header: Mapping[str, Any], payload: Any = None) -> Snapshot:
        image, job = header["image"], header["job"]
        width, height = int(image["width"]), int(image["height"])
        if payload is None or len(payload) != width * height * 3:
            raise ValueError(f"the server's snapshot for job {job} does not hold {width}×{height} RGB pixels")
        return cls(
            job,
            payload,
            width,
            height,
            int(header["octave"]),
            int(header["octaves"]),
            int(header["step"]),
            int(header["steps"]),
            float(header["fraction"]),
            bool(header["octave_done"]),
        )


@dataclass(frozen=True)
class Result:
    """The dreamed image, in the layout and sample type it was sent in; ``partial`` says how far a job stopped
    with ``stop`` got (octave, octaves, step, steps, fraction), else None. An atlas request's result is its
    sheet (u8 RGB), with ``atlas`` saying where each channel's tile lies on it."""

    type: ClassVar[str] = RESULT
    job_id: str
    pixels: Any = field(repr=False)
    width: int
    height: int
    channels: int
    dtype: str
    seed: int
    seconds: float
    engine_seconds: float
    notes: list[str] = field(default_factory=list)
    partial: dict[str, Any] | None = None
    atlas: Sheet | None = None

    @property
    def spec(self) -> ImageSpec:
        return ImageSpec(self.width, self.height, self.channels, self.dtype)

    def encode(self) -> dict[str, Any]:
        header = {
            "type": RESULT,
            "job": self.job_id,
            "image": self.spec.to_dict(),
            "seed": self.seed,
            "seconds": self.seconds,
            "engine_seconds": self.engine_seconds,
            "notes": self.notes,
        }
        if self.atlas is not None:
            header["atlas"] = self.atlas.to_dict()
        return header if self.partial is None else {**header, "partial": dict(self.partial)}

    @property
    def frames(self) -> tuple[Any, ...]:
        return (self.pixels,)

    @classmethod
    def decode(cls, header: Mapping[str, Any], payload: Any = None) -> Result:
        """Raises ValueError where the declared layout is unreadable or the frame does not fill it exactly (a
        short buffer never reaches the caller)."""
        job, image = header["job"], header["image"]
        if payload is None:
            raise ValueError(f"the server's result for job {job} came without its image frame")
        spec = ImageSpec(int(image["width"]), int(image["height"]), int(image["channels"]), str(image["dtype"]))
        if min(spec.width, spec.height, spec.channels) < 1 or len(payload) != spec.nbytes:
            raise ValueError(
                f"the server's result for job {job} is {len(payload)} bytes, but the {spec.width}x{spec.height} "
                f"{spec.channels}-channel {spec.dtype} image it declares needs {spec.nbytes}"
            )
        partial, atlas = header.get("partial"), header.get("atlas")
        return cls(
            job,
            payload,
            spec.width,
            spec.height,
            spec.channels,
            spec.dtype,
            int(header["seed"]),
            float(header["seconds"]),
            float(header["engine_seconds"]),
            [str(note) for note in header.get("notes", [])],
            dict(partial) if partial is not None else None,
            Sheet.from_dict(atlas) if atlas is not None else None,
        )


@dataclass(frozen=True)
class Cancelled(_HeaderOnly):
    """The job stopped before finishing (asked by ``cancel``, or the server shut down)."""

    type: ClassVar[str] = CANCELLED
    job_id: str

    def encode(self) -> dict[str, Any]:
        return {"type": CANCELLED, "job": self.job_id}

    @classmethod
    def decode(cls, header: Mapping[str, Any], payload: Any = None) -> Cancelled:
        return cls(header["job"])


@dataclass(frozen=True)
class Error(_HeaderOnly):
    """A refusal or failure: its wire ``code`` and message, with the ``job``/``req`` it answers where known."""

    type: ClassVar[str] = ERROR
    code: str
    message: str
    job: str | None = None
    req: str | None = None

    def encode(self) -> dict[str, Any]:
        ids = {name: value for name, value in (("job", self.job), ("req", self.req)) if value is not None}
        return {"type": ERROR, "code": self.code, "message": self.message, **ids}

    @classmethod
    def decode(cls, header: Mapping[str, Any], payload: Any = None) -> Error:
        job, req = header.get("job"), header.get("req")
        return cls(
            str(header.get("code", "internal")),
            str(header.get("message", "the dream server reported an error without a message")),
            job if isinstance(job, str) else None,
            req if isinstance(req, str) else None,
        )

    def exception(self) -> ReverieError:
        """The error as the exception of its code."""
        return from_wire(self.code, self.message, self.job)


@dataclass(frozen=True)
class Heartbeat(_HeaderOnly):
    """A sign of life to a client with a queued or running job."""

    type: ClassVar[str] = HEARTBEAT

    def encode(self) -> dict[str, Any]:
        return {"type": HEARTBEAT}

    @classmethod
    def decode(cls, header: Mapping[str, Any], payload: Any = None) -> Heartbeat:
        return cls()


Reply = Union[Welcome, Accepted, Progress, Snapshot, Result, Cancelled, Error, Heartbeat]  # noqa: UP007
# A job's own messages, by type, as the client reads them.
JOB_REPLIES: dict[str, Any] = {reply.type: reply for reply in (Accepted, Progress, Snapshot, Result, Cancelled, Error)}
