"""The dream server's wire protocol, shared by the server, the client and the GIMP plug-in.

Standard library only: GIMP's Python imports it beside the plug-in. Every message is a
ZeroMQ multipart message ``[b"", header, pixels?]``: an empty delimiter (so the message survives
brokers), a small JSON header and, where an image travels, one raw buffer whose layout the header
declares. Nothing is ever pickled. See server/reverie/PROTOCOL.md.
"""

from __future__ import annotations

import ipaddress
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar, Union
from urllib.parse import urlsplit

from reverie_wire import schema
from reverie_wire.atlas import ATLAS, AtlasOrder, atlas_order
from reverie_wire.errors import BadRequest, ReverieError, TooLarge, VersionMismatch
from reverie_wire.images import DTYPE_SIZES, MAX_CHANNELS, Image, ImageSpec
from reverie_wire.snapshots import SnapshotRequest, keep_flag, snapshot_request

PROTOCOL_VERSION = 1
DEFAULT_ENDPOINT = "tcp://127.0.0.1:5555"

# A header is a few hundred bytes; this bounds the JSON parser's work per message.
MAX_HEADER_BYTES = 64 * 1024
JOB_ID = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
# The longest ``job``/``req`` an error reply echoes, valid or not.
MAX_ECHO = 256
# Seconds between the server's heartbeats to each client with a queued or running job (``hello`` says it too).
HEARTBEAT_INTERVAL = 0.5
# ZeroMQ's own heartbeats on both ends' sockets, so each notices a vanished peer's connection.
ZMQ_HEARTBEAT_MS, ZMQ_HEARTBEAT_TIMEOUT_MS = 500, 1500

# Client → server.
HELLO, DREAM, CANCEL = "hello", "dream", "cancel"
REQUESTS = (HELLO, DREAM, CANCEL, ATLAS)
# A dream's optional extra images, each declared in the header's field of its name, their frames in this order
# after the image's; a new kind is one more name here (and its meaning on the server: ``reverie.serving.worker``).
GUIDE, STRENGTH = "guide", "strength"
# A frame of a clip: the clip's previous source frame and that frame's dream, which the dream starts from.
PREVIOUS_SOURCE, PREVIOUS_DREAM = "previous_source", "previous_dream"
PREVIOUS = (PREVIOUS_SOURCE, PREVIOUS_DREAM)
EXTRA_FRAMES = (GUIDE, STRENGTH, *PREVIOUS)
# The extra images that are grey (one channel).
GREY_FRAMES = frozenset({STRENGTH})
# Server → client (plus HELLO as the answer to HELLO).
ACCEPTED, PROGRESS, RESULT, CANCELLED, ERROR, HEARTBEAT = (
    "accepted",
    "progress",
    "result",
    "cancelled",
    "error",
    "heartbeat",
)


@dataclass(frozen=True)
class Limits:
    """What a server accepts; announced in ``hello`` so clients can refuse oversized images themselves."""

    max_pixels: int = 36_000_000
    max_side: int = 16384
    max_queue: int = 16
    # Pixels held by waiting jobs, so a few huge images cannot exhaust the server's memory.
    max_queue_bytes: int = 2 * 1024**3
    # Open connections; more are closed as soon as they are accepted.
    max_connections: int = 256
    # The largest tile a job may ask for (memory grows with its square), and how many compiled objectives the
    # server keeps (each distinct set of layers, weights and channels is one).
    max_tile_size: int = 2048
    max_compiled: int = 32
    # Fairness: one client's waiting jobs, one job's size (each octave's pixels × steps) and running time.
    max_jobs_per_client: int = 4
    max_pixel_steps: int = 20_000_000_000
    max_job_seconds: int = 3600
    # What the server keeps sent but unread for one peer, and for how long a job's last message may wait.
    max_unread_bytes: int = 1024**3
    unread_seconds: int = 60
    # What all clients together may make the server hold (in flight, jobs' pixels, unread); 0: a quarter of its RAM.
    memory_budget: int = 0

    @property
    def max_message_bytes(self) -> int:
        """The largest frame the server's socket takes (its ZeroMQ MAXMSGSIZE): the largest f32 RGBA image."""
        return max(self.max_pixels * MAX_CHANNELS * DTYPE_SIZES["f32"], MAX_HEADER_BYTES)

    @property
    def max_inflight_bytes(self) -> int:
        """What one peer may have sent that the server has not read yet: a message arriving while the one before it
        waits to be read."""
        return 2 * (self.max_message_bytes + MAX_HEADER_BYTES)

    def to_dict(self) -> dict[str, int]:
        return {
            **asdict(self),
            "max_message_bytes": self.max_message_bytes,
            "max_inflight_bytes": self.max_inflight_bytes,
        }


def _reject_constant(name: str) -> Any:
    raise BadRequest(f"the header holds {name}, which is not a number JSON allows")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise BadRequest(f"the header holds the number {text}, which is too large")
    return value


def encode(header: Mapping[str, Any], *payloads: Any) -> list[Any]:
    """The frames after the routing envelope: delimiter, JSON header and the raw buffers that are not None
    (a dream's image, then its guide, then its strength map)."""
    data = {"v": PROTOCOL_VERSION, **header}
    frames: list[Any] = [b"", json.dumps(data, allow_nan=False, separators=(",", ":")).encode()]
    frames.extend(payload for payload in payloads if payload is not None)
    return frames


def decode_header(frame: Any) -> dict[str, Any]:
    """A JSON object from a header frame (bytes or a received frame, sized before it is copied); NaN, infinities
    and absurd nesting are refused."""
    if len(frame) > MAX_HEADER_BYTES:
        raise TooLarge(f"the header is {len(frame)} bytes; at most {MAX_HEADER_BYTES} are accepted")
    try:
        header = json.loads(bytes(frame), parse_constant=_reject_constant, parse_float=_finite_float)
    except (ValueError, RecursionError) as error:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise BadRequest(f"the header is not valid UTF-8 JSON: {error}") from None
    if not isinstance(header, dict):
        raise BadRequest("the header must be a JSON object")
    return header


def split(frames: Sequence[Any]) -> tuple[list[Any], list[Any]]:
    """``(envelope, body)`` of a message a ROUTER received: the envelope ends at the first empty frame.

    A message without a delimiter (not sent by a Reverie client) is answered to its first frame.
    """
    for index, frame in enumerate(frames):
        if len(frame) == 0:
            return list(frames[:index]), list(frames[index + 1 :])
    return list(frames[:1]), list(frames[1:])


def check_version(header: Mapping[str, Any]) -> None:
    """Refuse any other protocol version with a message that says which side to update."""
    version = header.get("v")
    if type(version) is not int or version != PROTOCOL_VERSION:  # not True, not 1.0
        raise VersionMismatch(
            f"the client speaks Reverie protocol {version!r} but this server speaks {PROTOCOL_VERSION}; "
            "update the older of the GIMP plug-in and the dream server so both are the same release"
        )


def check_job_id(value: Any) -> str:
    """A client-chosen job id: 1 to 64 letters, digits and ``_.:-``."""
    if not isinstance(value, str) or not JOB_ID.fullmatch(value):
        raise BadRequest("job must be 1 to 64 letters, digits, '_', '.', ':' or '-'")
    return value


def _whole(name: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadRequest(f"image {name} must be a whole number, got {value!r}")
    if not low <= value <= high:
        raise BadRequest(f"image {name} must be between {low} and {high}, got {value}")
    return value


def image_spec(data: Any, limits: Limits) -> ImageSpec:
    """The declared image layout, checked against the limits (``TooLarge`` beyond them)."""
    if not isinstance(data, Mapping):
        raise BadRequest("image must be an object with width, height, channels and dtype")
    dtype = data.get("dtype")
    if dtype not in DTYPE_SIZES:
        raise BadRequest(f"image dtype must be one of {', '.join(DTYPE_SIZES)}, got {dtype!r}")
    channels = _whole("channels", data.get("channels"), 1, MAX_CHANNELS)
    width = _whole("width", data.get("width"), 1, 2**31)
    height = _whole("height", data.get("height"), 1, 2**31)
    spec = ImageSpec(width, height, channels, dtype)
    if max(width, height) > limits.max_side or spec.pixels > limits.max_pixels:
        raise TooLarge(too_large_message(spec, limits))
    return spec


def too_large_message(spec: ImageSpec, limits: Limits) -> str:
    """What a person reads when an image exceeds a server's limits."""
    return (
        f"the image is {spec.width}x{spec.height} ({spec.pixels / 1e6:.1f} megapixels); this server takes at "
        f"most {limits.max_pixels / 1e6:.1f} megapixels and {limits.max_side} pixels a side. Scale the "
        "layer down, dream on a selection, or raise [limits] max_pixels in the server's config"
    )


def check_buffer(spec: ImageSpec, buffer: Any) -> None:
    """The buffer must be exactly as long as the header says."""
    if buffer is None:
        raise BadRequest("a dream needs the image as a second frame after the header")
    if len(buffer) != spec.nbytes:
        raise BadRequest(
            f"the image frame is {len(buffer)} bytes but {spec.width}x{spec.height}x{spec.channels} "
            f"{spec.dtype} needs {spec.nbytes}"
        )


def _extra_frame(name: str, declared: Any, frame: Any, limits: Limits) -> Image:
    """An extra image's layout (as ``image``'s, same limits), checked against its frame."""
    try:
        spec = image_spec(declared, limits)
    except ReverieError as error:
        raise type(error)(f"{name}: {error}") from None
    if frame is None:
        raise BadRequest(f"a dream with a {name} needs the {name}'s pixels as a frame after the image's")
    if len(frame) != spec.nbytes:
        raise BadRequest(
            f"the {name} frame is {len(frame)} bytes but {spec.width}x{spec.height}x{spec.channels} "
            f"{spec.dtype} needs {spec.nbytes}"
        )
    if name in GREY_FRAMES and spec.channels != 1:
        raise BadRequest(f"{name}: a {name} map is grey (one channel), got {spec.channels} channels")
    return Image.of(spec, frame)


def extra_frames(header: Mapping[str, Any], frames: Sequence[Any], limits: Limits) -> dict[str, Image]:
    """A dream's optional extra images by name, each its layout in the header's field of its name and its pixels
    in a frame after the image's, in the order of ``EXTRA_FRAMES``; those in ``GREY_FRAMES`` have one channel."""
    declared = [name for name in EXTRA_FRAMES if header.get(name) is not None]
    if len(frames) > len(declared):
        raise BadRequest(
            f"a dream sent {len(frames)} frame(s) after the image but its header declares "
            f"{' and '.join(declared) or 'no ' + ' or '.join(EXTRA_FRAMES) + ' layout'}"
        )
    return {
        name: _extra_frame(name, header[name], frames[index] if index < len(frames) else None, limits)
        for index, name in enumerate(declared)
    }


def check_previous(image: ImageSpec, extras: Mapping[str, Image]) -> None:
    """A clip's previous frames come together, each the size of the image (any channels and sample type)."""
    sent = [name for name in PREVIOUS if name in extras]
    if len(sent) == 1:
        raise BadRequest(f"a dream with a {sent[0]} needs the other previous frame too: send both or neither")
    for name in sent:
        frame = extras[name]
        if (frame.width, frame.height) != (image.width, image.height):
            raise BadRequest(
                f"{name}: the previous frame is {frame.width}x{frame.height} but the image is "
                f"{image.width}x{image.height}; a clip's frames are all one size"
            )


def check_params(params: Any) -> dict[str, Any]:
    """A dream's params, checked against the schema (names, types, ranges, choices); the model, its layers
    and presets are the server's to check."""
    if not isinstance(params, dict):
        raise BadRequest("params must be an object of dream parameters")
    try:
        schema.check_params(params)
    except BadRequest as error:
        raise BadRequest(f"in params, {error}") from None
    return params


@dataclass(frozen=True)
class Hello:
    """Asks for the server's facts; ``req`` (optional) comes back in the answer."""

    type: ClassVar[str] = HELLO
    req: str | None = None

    def encode(self) -> dict[str, Any]:
        return {"type": HELLO, **({} if self.req is None else {"req": self.req})}

    @property
    def frames(self) -> tuple[Any, ...]:
        return ()

    @classmethod
    def decode(cls, header: Mapping[str, Any], frames: Sequence[Any], limits: Limits) -> Hello:
        _header_alone(HELLO, frames)
        req = header.get("req")
        return cls(check_job_id(req) if req is not None else None)


@dataclass(frozen=True)
class Cancel:
    """Stops a job; with ``keep`` a running one answers with the image as far as it came."""

    type: ClassVar[str] = CANCEL
    job: str
    keep: bool = False

    def encode(self) -> dict[str, Any]:
        return {"type": CANCEL, "job": self.job, **({"keep": True} if self.keep else {})}

    @property
    def frames(self) -> tuple[Any, ...]:
        return ()

    @classmethod
    def decode(cls, header: Mapping[str, Any], frames: Sequence[Any], limits: Limits) -> Cancel:
        _header_alone(CANCEL, frames)
        return cls(check_job_id(header.get("job")), keep_flag(header.get("keep")))


@dataclass(frozen=True)
class Dream:
    """A job: its image, its ``params`` (the checked JSON object, defaults not yet merged), and its optional
    extra images by name (``EXTRA_FRAMES``)."""

    type: ClassVar[str] = DREAM
    job: str
    params: dict[str, Any]
    image: Image
    snapshots: SnapshotRequest | None = None
    extras: Mapping[str, Image] = field(default_factory=dict)

    def encode(self) -> dict[str, Any]:
        header = {"type": DREAM, "job": self.job, "params": self.params, "image": self.image.layout()}
        if self.snapshots is not None:
            header["snapshots"] = self.snapshots.to_dict()
        return header | {name: self.extras[name].layout() for name in EXTRA_FRAMES if name in self.extras}

    @property
    def frames(self) -> tuple[Any, ...]:
        """The image's pixels, then each extra image's in the order of ``EXTRA_FRAMES``."""
        return (self.image.pixels, *(self.extras[name].pixels for name in EXTRA_FRAMES if name in self.extras))

    @classmethod
    def decode(cls, header: Mapping[str, Any], frames: Sequence[Any], limits: Limits) -> Dream:
        job = check_job_id(header.get("job"))
        params = check_params(header.get("params", {}))
        spec = image_spec(header.get("image"), limits)
        pixels = frames[0] if frames else None
        check_buffer(spec, pixels)
        snapshots = snapshot_request(header.get("snapshots"))
        extras = extra_frames(header, frames[1:], limits)
        check_previous(spec, extras)
        return cls(job, params, Image.of(spec, pixels), snapshots, extras)


@dataclass(frozen=True)
class Atlas:
    """A job too: the sheet of what ``order``'s channels of the served model dream of (``reverie_wire.atlas``)."""

    type: ClassVar[str] = ATLAS
    job: str
    order: AtlasOrder

    def encode(self) -> dict[str, Any]:
        return {"type": ATLAS, "job": self.job, "atlas": self.order.to_dict()}

    @property
    def frames(self) -> tuple[Any, ...]:
        return ()

    @classmethod
    def decode(cls, header: Mapping[str, Any], frames: Sequence[Any], limits: Limits) -> Atlas:
        _header_alone(ATLAS, frames)
        return cls(check_job_id(header.get("job")), atlas_order(header.get("atlas")))


Request = Union[Hello, Dream, Cancel, Atlas]  # noqa: UP007 - a runtime alias on Python 3.10 too
REQUEST_TYPES: dict[str, type[Hello] | type[Dream] | type[Cancel] | type[Atlas]] = {
    HELLO: Hello,
    DREAM: Dream,
    CANCEL: Cancel,
    ATLAS: Atlas,
}


def _header_alone(kind: str, frames: Sequence[Any]) -> None:
    if frames:
        raise BadRequest(f"a {kind} request is a header alone, got {len(frames) + 1} frames")


def parse_request(body: Sequence[Any], limits: Limits) -> Request:
    """Validate the frames after the delimiter; raises a ReverieError whose code the reply carries."""
    if not body or len(body) > 2 + len(EXTRA_FRAMES):
        raise BadRequest(
            f"a request is a header and at most {1 + len(EXTRA_FRAMES)} image frames (a dream's image, then its "
            f"{', '.join(EXTRA_FRAMES)}), got {len(body)} frames"
        )
    header = decode_header(body[0])
    check_version(header)
    kind = header.get("type")
    if not isinstance(kind, str) or kind not in REQUEST_TYPES:
        raise BadRequest(f"unknown request type {kind!r}; this server understands {', '.join(REQUESTS)}")
    return REQUEST_TYPES[kind].decode(header, body[1:], limits)


def reply_ids(body: Sequence[Any]) -> dict[str, str]:
    """The ``job``/``req`` of a request that failed, for its error reply: each that is a string of at most
    MAX_ECHO characters, as sent (even one that is not a valid id, so the client can tell which request failed),
    read from any header that is a JSON object (NaN and infinities let through here)."""
    if not body or len(body[0]) > MAX_HEADER_BYTES:
        return {}
    try:
        header = json.loads(bytes(body[0]))
    except (ValueError, RecursionError):
        return {}
    if not isinstance(header, dict):
        return {}
    return {
        key: value for key in ("job", "req") if isinstance(value := header.get(key), str) and len(value) <= MAX_ECHO
    }


def is_loopback(endpoint: str) -> bool:
    """Whether an endpoint only listens on this machine (loopback TCP, ipc or inproc)."""
    scheme, _, rest = endpoint.partition("://")
    if scheme in ("ipc", "inproc"):
        return True
    if scheme != "tcp":
        return False
    host = urlsplit(f"//{rest}").hostname
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host or "").is_loopback
    except ValueError:  # "*", an interface name or a host name: may face the network
        return False
