"""The wire protocol: framing, header validation and the limits every request is checked against."""

from __future__ import annotations

import json

import pytest

from reverie_wire import errors, protocol
from reverie_wire.errors import BadRequest, TooLarge

LIMITS = protocol.Limits(max_pixels=10_000, max_side=200, max_queue=4)


def dream_frames(header: dict | None = None, image: dict | None = None, payload: bytes | None = None) -> list:
    image = image or {"width": 10, "height": 5, "channels": 3, "dtype": "u8"}
    body = {"v": 1, "type": "dream", "job": "j1", "params": {}, "image": image, **(header or {})}
    frames = [json.dumps(body).encode()]
    return [*frames, payload if payload is not None else bytes(10 * 5 * 3)]


def test_encode_puts_a_delimiter_and_the_version_first() -> None:
    frames = protocol.encode({"type": "hello", "req": "r1"})
    assert frames[0] == b""
    assert json.loads(frames[1]) == {"v": protocol.PROTOCOL_VERSION, "type": "hello", "req": "r1"}
    assert protocol.encode({"type": "result"}, b"abc")[2] == b"abc"


def test_encode_refuses_nan() -> None:
    with pytest.raises(ValueError):
        protocol.encode({"type": "progress", "fraction": float("nan")})


@pytest.mark.parametrize(
    "raw",
    [
        b"{",
        b"\xff\xfe",
        b"[1, 2]",
        b"42",
        b'{"a": NaN}',
        b'{"a": Infinity}',
        b'{"a": -Infinity}',
        b'{"a": 1e999}',
        b"[" * 50_000,
        b'{"a": ' + b"9" * 5000 + b"}",
    ],
)
def test_decode_header_refuses_what_is_not_a_finite_json_object(raw: bytes) -> None:
    with pytest.raises(BadRequest):
        protocol.decode_header(raw)


def test_decode_header_refuses_an_oversized_header() -> None:
    with pytest.raises(TooLarge):
        protocol.decode_header(b" " * (protocol.MAX_HEADER_BYTES + 1))


def test_split_finds_the_envelope_through_a_broker() -> None:
    assert protocol.split([b"broker", b"client", b"", b"{}", b"px"]) == ([b"broker", b"client"], [b"{}", b"px"])
    assert protocol.split([b"client", b"garbage"]) == ([b"client"], [b"garbage"])


@pytest.mark.parametrize("version", [None, 0, 2, "1", 1.0, True])
def test_any_other_version_is_a_version_mismatch(version: object) -> None:
    header = {"type": "hello"} if version is None else {"type": "hello", "v": version}
    with pytest.raises(errors.VersionMismatch) as caught:
        protocol.parse_request([json.dumps(header).encode()], LIMITS)
    assert caught.value.code == "version_mismatch"
    assert "update" in str(caught.value)


def test_a_valid_dream_request_parses() -> None:
    request = protocol.parse_request(dream_frames(), LIMITS)
    assert request.type == "dream" and request.job == "j1"
    assert request.image.spec == protocol.ImageSpec(10, 5, 3, "u8")
    assert request.image.nbytes == 150


@pytest.mark.parametrize(
    ("image", "payload", "code"),
    [
        ({"width": 10, "height": 5, "channels": 3, "dtype": "u8"}, bytes(149), "bad_request"),
        ({"width": 10, "height": 5, "channels": 3, "dtype": "u8"}, bytes(151), "bad_request"),
        ({"width": 10, "height": 5, "channels": 3, "dtype": "u16"}, bytes(150), "bad_request"),
        ({"width": 10, "height": 5, "channels": 5, "dtype": "u8"}, bytes(250), "bad_request"),
        ({"width": 10, "height": 5, "channels": 3, "dtype": "f64"}, bytes(1200), "bad_request"),
        ({"width": True, "height": 5, "channels": 3, "dtype": "u8"}, bytes(15), "bad_request"),
        ({"width": 2.0, "height": 5, "channels": 3, "dtype": "u8"}, bytes(30), "bad_request"),
        ({"width": 0, "height": 5, "channels": 3, "dtype": "u8"}, b"", "bad_request"),
        ({"width": 201, "height": 5, "channels": 1, "dtype": "u8"}, bytes(1005), "too_large"),
        ({"width": 200, "height": 200, "channels": 1, "dtype": "u8"}, bytes(40_000), "too_large"),
        ({"width": 2**40, "height": 2**40, "channels": 1, "dtype": "u8"}, b"", "bad_request"),
    ],
)
def test_image_declarations_are_checked_against_the_buffer_and_limits(image: dict, payload: bytes, code: str) -> None:
    with pytest.raises(BadRequest if code == "bad_request" else TooLarge) as caught:
        protocol.parse_request(dream_frames(image=image, payload=payload), LIMITS)
    assert caught.value.code == code


def test_a_dream_without_its_image_frame_is_refused() -> None:
    with pytest.raises(BadRequest, match="second frame"):
        protocol.parse_request(dream_frames()[:1], LIMITS)


@pytest.mark.parametrize(
    "header",
    [
        {"type": "launch"},
        {},
        {"type": "dream", "job": "x" * 65},
        {"type": "cancel", "job": "a b"},
        {"type": "cancel"},
        {"type": "dream", "job": "j", "params": [1]},
        {"type": "hello", "req": 5},
    ],
)
def test_malformed_requests_are_bad_requests(header: dict) -> None:
    with pytest.raises(BadRequest):
        protocol.parse_request([json.dumps({"v": 1, **header}).encode(), b"x"], LIMITS)


def test_too_many_frames_are_refused() -> None:
    with pytest.raises(BadRequest, match="frames"):
        protocol.parse_request([b"{}", *[b""] * (2 + len(protocol.EXTRA_FRAMES))], LIMITS)


GUIDE = {"width": 20, "height": 8, "channels": 4, "dtype": "f32"}


def test_a_guide_travels_as_a_third_frame_with_its_own_layout() -> None:
    guide = bytes(20 * 8 * 4 * 4)
    request = protocol.parse_request([*dream_frames({"guide": GUIDE}), guide], LIMITS)
    assert request.extras["guide"].spec == protocol.ImageSpec(20, 8, 4, "f32")
    assert request.extras["guide"].pixels is guide
    assert "guide" not in protocol.parse_request(dream_frames(), LIMITS).extras


@pytest.mark.parametrize(
    ("guide", "frame", "error", "words"),
    [
        (GUIDE, None, BadRequest, "guide's pixels as a frame after the image's"),
        (GUIDE, bytes(7), BadRequest, "guide frame is 7 bytes"),
        (None, bytes(7), BadRequest, "declares no guide or strength"),
        ({**GUIDE, "dtype": "f64"}, bytes(7), BadRequest, "guide: image dtype"),
        ({**GUIDE, "width": 300}, bytes(300 * 8 * 16), TooLarge, "guide: the image is 300x8"),
        ("big", bytes(7), BadRequest, "guide: image must be an object"),
    ],
)
def test_a_guide_is_checked_like_the_image(guide: object, frame: bytes | None, error: type, words: str) -> None:
    extra = {} if guide is None else {"guide": guide}
    frames = [*dream_frames(extra), *([] if frame is None else [frame])]
    with pytest.raises(error, match=words):
        protocol.parse_request(frames, LIMITS)


STRENGTH = {"width": 5, "height": 3, "channels": 1, "dtype": "u8"}


def test_a_strength_map_travels_after_the_guide_with_its_own_layout() -> None:
    guide, strength = bytes(20 * 8 * 4 * 4), bytes(5 * 3)
    request = protocol.parse_request([*dream_frames({"guide": GUIDE, "strength": STRENGTH}), guide, strength], LIMITS)
    assert [extra.pixels for extra in request.extras.values()] == [guide, strength]
    assert request.extras["strength"].spec == protocol.ImageSpec(5, 3, 1, "u8")
    alone = protocol.parse_request([*dream_frames({"strength": {**STRENGTH, "dtype": "f32"}}), bytes(60)], LIMITS)
    assert list(alone.extras) == ["strength"] and alone.extras["strength"].spec == protocol.ImageSpec(5, 3, 1, "f32")


@pytest.mark.parametrize(
    ("extra", "frames", "error", "words"),
    [
        ({"strength": STRENGTH}, [], BadRequest, "strength's pixels as a frame after the image's"),
        ({"strength": STRENGTH}, [bytes(14)], BadRequest, "strength frame is 14 bytes"),
        ({"strength": {**STRENGTH, "channels": 3}}, [bytes(45)], BadRequest, "grey .one channel., got 3"),
        ({"strength": {**STRENGTH, "width": 300}}, [bytes(300 * 3)], TooLarge, "strength: the image is 300x3"),
        ({"strength": [1]}, [bytes(15)], BadRequest, "strength: image must be an object"),
        ({"guide": GUIDE, "strength": STRENGTH}, [bytes(20 * 8 * 16)], BadRequest, "strength's pixels"),
        ({"strength": STRENGTH}, [bytes(15), bytes(15)], BadRequest, "2 frame.s. after the image .* strength"),
    ],
)
def test_a_strength_map_is_checked_like_the_guide_and_is_grey(
    extra: dict, frames: list[bytes], error: type, words: str
) -> None:
    with pytest.raises(error, match=words):
        protocol.parse_request([*dream_frames(extra), *frames], LIMITS)


PREVIOUS = {"width": 10, "height": 5, "channels": 4, "dtype": "u16"}
PAIR = {"previous_source": PREVIOUS, "previous_dream": {**PREVIOUS, "channels": 3, "dtype": "u8"}}


def test_a_clips_previous_frames_travel_last_each_in_its_own_layout() -> None:
    source, dreamt, strength = bytes(10 * 5 * 4 * 2), bytes(10 * 5 * 3), bytes(5 * 3)
    frames = [*dream_frames({"strength": STRENGTH, **PAIR}), strength, source, dreamt]
    request = protocol.parse_request(frames, LIMITS)
    assert [extra.pixels for extra in request.extras.values()] == [strength, source, dreamt]
    assert request.extras["previous_source"].spec == protocol.ImageSpec(10, 5, 4, "u16")
    assert request.extras["previous_dream"].spec == protocol.ImageSpec(10, 5, 3, "u8")
    assert not protocol.parse_request(dream_frames(), LIMITS).extras


@pytest.mark.parametrize(
    ("extra", "frames", "error", "words"),
    [
        ({"previous_source": PREVIOUS}, [bytes(400)], BadRequest, "needs the other previous frame too"),
        ({"previous_dream": PREVIOUS}, [bytes(400)], BadRequest, "needs the other previous frame too"),
        (PAIR, [bytes(400)], BadRequest, "previous_dream's pixels as a frame after the image's"),
        (PAIR, [bytes(400), bytes(149)], BadRequest, "previous_dream frame is 149 bytes"),
        (
            {**PAIR, "previous_dream": {**PREVIOUS, "width": 11}},
            [bytes(400), bytes(440)],
            BadRequest,
            "previous_dream: the previous frame is 11x5 but the image is 10x5; a clip's frames are all one size",
        ),
        (
            {**PAIR, "previous_source": {**PREVIOUS, "height": 4}},
            [bytes(320), bytes(150)],
            BadRequest,
            "previous_source: the previous frame is 10x4 but the image is 10x5",
        ),
        ({**PAIR, "previous_dream": {**PREVIOUS, "width": 300}}, [bytes(400), bytes(300 * 40)], TooLarge, "300x5"),
        (PAIR, [bytes(400), bytes(150), bytes(1)], BadRequest, "sent 3 frame.s. after the image .* previous_dream"),
    ],
)
def test_a_clips_previous_frames_come_together_at_the_images_size(
    extra: dict, frames: list[bytes], error: type, words: str
) -> None:
    with pytest.raises(error, match=words):
        protocol.parse_request([*dream_frames(extra), *frames], LIMITS)


def test_reply_ids_recovers_the_job_of_a_broken_request_when_it_can() -> None:
    assert protocol.reply_ids([json.dumps({"job": "abc", "req": "r"}).encode()]) == {"job": "abc", "req": "r"}
    assert protocol.reply_ids([b"not json"]) == {}
    assert protocol.reply_ids([b"[1]"]) == {}
    assert protocol.reply_ids([]) == {}


def test_reply_ids_echo_what_the_header_names_even_when_the_request_is_refused_for_it() -> None:
    """A client with several requests out can tell which one failed: a bad id, or a header with NaN."""
    assert protocol.reply_ids([json.dumps({"job": "bad id!"}).encode()]) == {"job": "bad id!"}
    assert protocol.reply_ids([b'{"job": "j7", "params": {"steps": NaN}}']) == {"job": "j7"}
    assert protocol.reply_ids([b'{"req": "r1", "x": 1e999}']) == {"req": "r1"}
    assert protocol.reply_ids([json.dumps({"job": "x" * 257, "req": 5}).encode()]) == {}
    assert protocol.reply_ids([json.dumps({"job": "j", "pad": "x" * protocol.MAX_HEADER_BYTES}).encode()]) == {}


def test_limits_allow_the_largest_image_through_maxmsgsize() -> None:
    limits = protocol.Limits(max_pixels=1000)
    assert limits.max_message_bytes >= protocol.ImageSpec(1000, 1, 4, "f32").nbytes
    assert limits.to_dict()["max_message_bytes"] == limits.max_message_bytes


def test_too_large_message_tells_a_person_what_to_do() -> None:
    text = protocol.too_large_message(protocol.ImageSpec(4000, 3000, 4, "u8"), protocol.Limits(max_pixels=10**6))
    assert "12.0 megapixels" in text and "max_pixels" in text


@pytest.mark.parametrize(
    ("endpoint", "loopback"),
    [
        ("tcp://127.0.0.1:5555", True),
        ("tcp://127.0.0.2:5555", True),
        ("tcp://localhost:5555", True),
        ("tcp://[::1]:5555", True),
        ("ipc:///tmp/reverie.sock", True),
        ("inproc://x", True),
        ("tcp://0.0.0.0:5555", False),
        ("tcp://*:5555", False),
        ("tcp://192.168.1.5:5555", False),
        ("tcp://eth0:5555", False),
        ("tcp://[::]:5555", False),
        ("udp://127.0.0.1:5", False),
    ],
)
def test_is_loopback(endpoint: str, loopback: bool) -> None:
    assert protocol.is_loopback(endpoint) is loopback


def test_every_wire_code_comes_back_as_the_class_the_server_raised() -> None:
    for code, kind in errors.WIRE_ERRORS.items():
        assert kind.code == code
        back = errors.from_wire(code, "why", "job-1")
        assert type(back) is kind and str(back) == "why" and back.job_id == "job-1"
    local = {errors.ConfigError, errors.ClientError, errors.ServerNotRunning, errors.ClientTimeout, errors.Unauthorized}
    assert not {kind.code for kind in local} & set(errors.ERROR_CODES)


def test_a_code_from_a_newer_server_keeps_its_code() -> None:
    error = errors.from_wire("out_of_ideas", "the server is tired")
    assert type(error) is errors.ReverieError and error.code == "out_of_ideas"


@pytest.mark.parametrize(
    "params",
    [[1], "steps=3", {"layers": ["mixed4"]}, {"channels": {"mixed4": 5}}, {"channels": [1]}, {"channels": None}],
)
def test_the_shape_of_params_is_checked_before_the_engine_sees_it(params: object) -> None:
    with pytest.raises(BadRequest, match="params"):
        protocol.parse_request(dream_frames({"params": params}), LIMITS)


def test_well_shaped_params_pass_through_untouched() -> None:
    params = {"layers": {"mixed4": 1.0}, "channels": {"mixed4": [1, 2]}, "steps": 3}
    assert protocol.parse_request(dream_frames({"params": params}), LIMITS).params == params
