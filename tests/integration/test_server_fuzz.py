"""Thousands of malformed messages at a real server: each is answered with an error (or dropped at the
size limit), the server never dies, and a valid job afterwards still succeeds."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterator

import pytest
import zmq
from server_harness import ENDLESS, TINY, Server, image, layout, start_server

from reverie_wire import protocol
from reverie_wire.client import Guide, Progress, Result, Strength
from reverie_wire.errors import ERROR_CODES
from reverie_wire.snapshots import SnapshotRequest

MAX_PIXELS, MAX_SIDE = 20_000, 200
MESSAGES = 3000
GOOD_IMAGE = {"width": 100, "height": 100, "channels": 3, "dtype": "u8"}

Message = tuple[list[bytes], set[str]]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = start_server(tmp_path_factory.mktemp("fuzz"), "--max-pixels", str(MAX_PIXELS), "--max-side", str(MAX_SIDE))
    yield server
    assert server.stop() == 0


def header(**fields: object) -> bytes:
    return json.dumps({"v": 1, **fields}).encode()


def garbage(rng: random.Random) -> Message:
    frames = [rng.randbytes(rng.randrange(0, 300)) for _ in range(rng.randrange(1, 5))]
    return frames, set(ERROR_CODES)


BAD_JSON = [
    b"",
    b"{",
    b"}",
    b"null",
    b"[]",
    b"42",
    b'"hello"',
    b"\xff\xfe\xfd",
    b'{"v": 1, "type": "hello"',
    b'{"v": NaN}',
    b'{"v": 1, "x": Infinity}',
    b'{"v": 1, "x": -Infinity}',
    b'{"v": 1e999}',
    b"[" * 20_000,
    b'{"v": ' + b"7" * 10_000 + b"}",
    b'{"v": 1, "type": "hello"}' + b"\x00",
]


def bad_json(rng: random.Random) -> Message:
    raw = rng.choice(BAD_JSON)
    if rng.random() < 0.5:
        valid = header(type="dream", job="j", params=TINY, image=GOOD_IMAGE)
        raw = valid[: rng.randrange(1, len(valid))]
    return [b"", raw], {"bad_request", "too_large", "version_mismatch"}


def wrong_version(rng: random.Random) -> Message:
    version = rng.choice([0, 2, -1, 99, "1", 1.5, None, True, [1], {"v": 1}])
    raw = json.dumps({"v": version, "type": rng.choice(["hello", "dream", "cancel"]), "job": "j"}).encode()
    return [b"", raw], {"version_mismatch"}


def unknown_op(rng: random.Random) -> Message:
    kind = rng.choice(["launch", "", "HELLO", "dreams", 5, None, ["hello"], {"a": 1}])
    return [b"", header(type=kind, job="j")], {"bad_request"}


def lying_sizes(rng: random.Random) -> Message:
    dtype, channels = rng.choice(list(protocol.DTYPE_SIZES)), rng.randrange(1, 5)
    width, height = rng.randrange(20, 120), rng.randrange(20, 120)
    size = width * height * channels * protocol.DTYPE_SIZES[dtype]
    wrong = size + rng.choice([-size, -1, 1, rng.randrange(2, 5000), -rng.randrange(2, size)])
    image_fields = {"width": width, "height": height, "channels": channels, "dtype": dtype}
    frames = [b"", header(type="dream", job="j", params=TINY, image=image_fields)]
    choice = rng.random()
    if choice < 0.7:
        frames.append(bytes(max(wrong, 0)))
    elif choice < 0.85:
        frames += [bytes(size), bytes(size)]
    return frames, {"bad_request"}


BAD_IMAGES = [
    {"width": 0, "height": 10, "channels": 3, "dtype": "u8"},
    {"width": -5, "height": 10, "channels": 3, "dtype": "u8"},
    {"width": 10, "height": 10, "channels": 0, "dtype": "u8"},
    {"width": 10, "height": 10, "channels": 9, "dtype": "u8"},
    {"width": 10.5, "height": 10, "channels": 3, "dtype": "u8"},
    {"width": True, "height": 10, "channels": 3, "dtype": "u8"},
    {"width": "10", "height": 10, "channels": 3, "dtype": "u8"},
    {"width": 10**12, "height": 10**12, "channels": 3, "dtype": "u8"},
    {"width": 10, "height": 10, "channels": 3, "dtype": "f64"},
    {"width": 10, "height": 10, "channels": 3},
    "100x100",
    None,
]


def bad_image(rng: random.Random) -> Message:
    fields = rng.choice(BAD_IMAGES)
    return [b"", header(type="dream", job="j", params=TINY, image=fields), bytes(300)], {"bad_request"}


def too_large(rng: random.Random) -> Message:
    side = rng.choice([(MAX_SIDE + 1, 10), (10, MAX_SIDE + 50), (150, 150), (MAX_SIDE, MAX_SIDE)])
    fields = {"width": side[0], "height": side[1], "channels": 1, "dtype": "u8"}
    return [b"", header(type="dream", job="j", params=TINY, image=fields), bytes(side[0] * side[1])], {"too_large"}


BAD_PARAMS: list[tuple[object, set[str]]] = [
    ({"steps": 1e308}, {"bad_request"}),
    ({"steps": -5}, {"bad_request"}),
    ({"steps": 10**40}, {"bad_request"}),
    ({"steps": 10**400}, {"bad_request"}),
    ({"octave_scale": -(10**400)}, {"bad_request"}),
    ({"layers": {"conv_pw_7_relu": 10**400}}, {"bad_request"}),
    ({"octaves": 0}, {"bad_request"}),
    ({"octave_scale": "big"}, {"bad_request"}),
    ({"step_size": 1e300}, {"bad_request"}),
    ({"seed": -1}, {"bad_request"}),
    ({"seed": 2**80}, {"bad_request"}),
    ({"seed": 1.5}, {"bad_request"}),
    ({"jitter": 10**9}, {"bad_request"}),
    ({"tile_size": 16}, {"bad_request"}),
    ({"tile_overlap": 10**9}, {"bad_request"}),
    ({"max_loss": "NaN"}, {"bad_request"}),
    ({"normalization": 5}, {"bad_request"}),
    ({"detail_reinjection": "yes"}, {"bad_request"}),
    ({"keep_colors": "yes"}, {"bad_request"}),
    ({"keep_colors": 1}, {"bad_request"}),
    ({"normalization": "laplace"}, {"bad_request"}),
    ({"lap_levels": 0}, {"bad_request"}),
    ({"lap_levels": 9}, {"bad_request"}),
    ({"lap_levels": 2.5}, {"bad_request"}),
    ({"model": None}, {"bad_request"}),
    ({"model": 5}, {"bad_request"}),
    ({"model": "nope"}, {"unknown_model"}),
    ({"model": "inception_v3"}, {"unknown_model"}),
    ({"preset": []}, {"bad_request"}),
    ({"preset": "nope"}, {"unknown_layer"}),
    ({"layers": []}, {"bad_request"}),
    ({"layers": {}}, {"bad_request"}),
    ({"layers": {"": 1}}, {"bad_request"}),
    ({"layers": {"conv_pw_7_relu": 1e300}}, {"bad_request"}),
    ({"layers": {"conv_pw_7_relu": "1"}}, {"bad_request"}),
    ({"layers": {"mixed4": 1}}, {"unknown_layer"}),
    ({"channels": {"conv_pw_7_relu": 5}}, {"bad_request"}),
    ({"channels": {"conv_pw_7_relu": [-1]}}, {"bad_request"}),
    ({"channels": {"conv_pw_7_relu": [1.5]}}, {"bad_request"}),
    ({"channels": {"nope": [1]}}, {"bad_request", "unknown_layer"}),
    ({"channels": [1, 2]}, {"bad_request"}),
    ({"colour": "red"}, {"bad_request"}),
    ({"__class__": 1}, {"bad_request"}),
    ([1, 2, 3], {"bad_request"}),
    ("steps=3", {"bad_request"}),
]


def bad_params(rng: random.Random) -> Message:
    params, codes = rng.choice(BAD_PARAMS)
    merged = {**TINY, **params} if isinstance(params, dict) else params
    return [b"", header(type="dream", job="j", params=merged, image=GOOD_IMAGE), bytes(30_000)], codes


def bad_ids(rng: random.Random) -> Message:
    job = rng.choice(["", "x" * 65, "a b", "ü", 5, None, ["j"], "../../etc"])
    kind = rng.choice(["dream", "cancel", "hello"] if job is not None else ["dream", "cancel"])
    fields = {"req": job} if kind == "hello" else {"job": job}
    frames = [b"", header(type=kind, params=TINY, image=GOOD_IMAGE, **fields)]
    return [*frames, bytes(30_000)] if kind == "dream" else frames, {"bad_request"}


def extra_frames(rng: random.Random) -> Message:
    """A request followed by frames no request has: refused whichever request it is."""
    kind = rng.choice(["hello", "cancel", "dream"])
    frames = [b"", header(type=kind, job="j", req="r", params=TINY, image=GOOD_IMAGE), bytes(30_000)]
    frames += [rng.randbytes(rng.randrange(0, 2000)) for _ in range(rng.randrange(1, 8))]
    return frames, {"bad_request"}


def unknown_cancel(rng: random.Random) -> Message:
    return [b"", header(type="cancel", job=f"never-{rng.randrange(10**6)}")], {"unknown_job"}


def too_small(rng: random.Random) -> Message:
    fields = {"width": 8, "height": 8, "channels": 3, "dtype": "u8"}
    return [b"", header(type="dream", job=f"small-{rng.randrange(10**9)}", params=TINY, image=fields), bytes(192)], {
        "too_small"
    }


BAD_SNAPSHOTS = [
    [],
    "often",
    250,
    True,
    {"every_ms": 10},
    {"every_ms": -1},
    {"every_ms": 250.5},
    {"every_ms": True},
    {"every_ms": 10**30},
    {"max_side": 0},
    {"max_side": 100_000},
    {"max_side": "512"},
    {"max_side": None},
    {"every_ms": 250, "max_side": 512, "format": "png"},
]


def bad_snapshots(rng: random.Random) -> Message:
    fields = {"job": "s", "params": TINY, "image": GOOD_IMAGE, "snapshots": rng.choice(BAD_SNAPSHOTS)}
    return [b"", header(type="dream", **fields), bytes(30_000)], {"bad_request"}


def bad_keep(rng: random.Random) -> Message:
    keep = rng.choice([1, 0, "yes", "true", [], {}, 1.0])
    return [b"", header(type="cancel", job=f"k-{rng.randrange(10**6)}", keep=keep)], {"bad_request"}


def bad_guide(rng: random.Random) -> Message:
    """A dream whose guide frame or layout is wrong: missing, the wrong length, over the limits, or extra."""
    good = {"width": 20, "height": 10, "channels": 3, "dtype": "u8"}
    fields, frame, codes = rng.choice(
        [
            (good, None, {"bad_request"}),
            (good, bytes(rng.randrange(0, 599)), {"bad_request"}),
            (rng.choice(BAD_IMAGES), bytes(600), {"bad_request"}),
            ({**good, "width": MAX_SIDE + 1}, bytes((MAX_SIDE + 1) * 30), {"too_large"}),
            (None, bytes(600), {"bad_request"}),
        ]
    )
    extra = {} if fields is None else {"guide": fields}
    frames = [b"", header(type="dream", job="j", params=TINY, image=GOOD_IMAGE, **extra), bytes(30_000)]
    return [*frames, *([] if frame is None else [frame])], codes


def bad_strength(rng: random.Random) -> Message:
    """A dream whose strength map is wrong: missing, the wrong length, in colour, over the limits, or after a
    guide that is missing."""
    good = {"width": 20, "height": 10, "channels": 1, "dtype": "u8"}
    guide = {"width": 4, "height": 4, "channels": 1, "dtype": "u8"}
    extra, frames, codes = rng.choice(
        [
            ({"strength": good}, [], {"bad_request"}),
            ({"strength": good}, [bytes(rng.randrange(0, 199))], {"bad_request"}),
            ({"strength": {**good, "channels": 3}}, [bytes(600)], {"bad_request"}),
            ({"strength": rng.choice(BAD_IMAGES)}, [bytes(200)], {"bad_request"}),
            ({"strength": {**good, "width": MAX_SIDE + 1}}, [bytes((MAX_SIDE + 1) * 10)], {"too_large"}),
            ({"guide": guide, "strength": good}, [bytes(200)], {"bad_request"}),
            ({"strength": good}, [bytes(200), bytes(16)], {"bad_request"}),
        ]
    )
    head = header(type="dream", job="j", params=TINY, image=GOOD_IMAGE, **extra)
    return [b"", head, bytes(30_000), *frames], codes


def bad_previous(rng: random.Random) -> Message:
    """A clip's frame whose previous frames are wrong: one alone, one missing its frame, the wrong length, of
    another size than the image, malformed or over the limits."""
    good = {**GOOD_IMAGE}
    pair = {"previous_source": good, "previous_dream": good}
    whole = bytes(30_000)
    other = {**good, "width": good["width"] - 1}
    extra, frames, codes = rng.choice(
        [
            ({"previous_source": good}, [whole], {"bad_request"}),
            ({"previous_dream": good}, [whole], {"bad_request"}),
            (pair, [whole], {"bad_request"}),
            (pair, [whole, bytes(rng.randrange(0, 29_999))], {"bad_request"}),
            ({**pair, "previous_dream": other}, [whole, bytes(other["width"] * other["height"] * 3)], {"bad_request"}),
            ({**pair, "previous_source": rng.choice(BAD_IMAGES)}, [whole, whole], {"bad_request"}),
            ({**pair, "previous_dream": {**good, "width": MAX_SIDE + 1}}, [whole, whole], {"too_large"}),
            (pair, [whole, whole, bytes(16)], {"bad_request"}),
        ]
    )
    head = header(type="dream", job="j", params=TINY, image=GOOD_IMAGE, **extra)
    return [b"", head, whole, *frames], codes


ATLAS_LAYER = "conv_pw_3_relu"
BAD_ATLAS: list[tuple[object, set[str]]] = [
    (None, {"bad_request"}),
    ("conv_pw_3_relu:0-3", {"bad_request"}),
    ([ATLAS_LAYER, 0, 3], {"bad_request"}),
    ({"layer": ATLAS_LAYER}, {"bad_request"}),
    ({"layer": ATLAS_LAYER, "channels": [0]}, {"bad_request"}),
    ({"layer": ATLAS_LAYER, "channels": [3, 1]}, {"bad_request"}),
    ({"layer": ATLAS_LAYER, "channels": [-1, 2]}, {"bad_request"}),
    ({"layer": ATLAS_LAYER, "channels": [0, 256]}, {"bad_request"}),
    ({"layer": ATLAS_LAYER, "channels": [0, 10**40]}, {"bad_request"}),
    ({"layer": ATLAS_LAYER, "channels": [0.5, 2]}, {"bad_request"}),
    ({"layer": ATLAS_LAYER, "channels": ["0", "3"]}, {"bad_request"}),
    ({"layer": ATLAS_LAYER, "channels": "0-3"}, {"bad_request"}),
    ({"layer": ATLAS_LAYER, "channels": [True, 3]}, {"bad_request"}),
    ({"layer": ATLAS_LAYER, "channels": [0, 3], "tile": 8}, {"bad_request"}),
    ({"layer": ATLAS_LAYER, "channels": [0, 3], "tile": 10_000}, {"bad_request"}),
    ({"layer": ATLAS_LAYER, "channels": [0, 3], "tile": 64.5}, {"bad_request"}),
    ({"layer": ATLAS_LAYER, "channels": [0, 3], "size": 64}, {"bad_request"}),
    ({"layer": "", "channels": [0, 3]}, {"bad_request"}),
    ({"layer": 5, "channels": [0, 3]}, {"bad_request"}),
    ({"layer": "x" * 200, "channels": [0, 3]}, {"bad_request"}),
    ({"layer": "mixed4", "channels": [0, 3]}, {"unknown_layer"}),
    ({"layer": "../../etc", "channels": [0, 3]}, {"unknown_layer"}),
]


def bad_atlas(rng: random.Random) -> Message:
    """An atlas request whose channels are wrong in form or range, or for a layer the model lacks, or with an image
    frame no atlas request has."""
    fields, codes = rng.choice(BAD_ATLAS)
    if rng.random() < 0.2:
        valid = {"layer": ATLAS_LAYER, "channels": [0, 3], "tile": 32}
        return [b"", header(type="atlas", job="a", atlas=valid), bytes(rng.randrange(0, 3000))], {"bad_request"}
    return [b"", header(type="atlas", job=f"a-{rng.randrange(10**6)}", atlas=fields)], codes


GENERATORS: list[Callable[[random.Random], Message]] = [
    garbage,
    bad_json,
    wrong_version,
    unknown_op,
    lying_sizes,
    bad_image,
    too_large,
    bad_params,
    bad_ids,
    unknown_cancel,
    too_small,
    extra_frames,
    bad_snapshots,
    bad_keep,
    bad_guide,
    bad_strength,
    bad_previous,
    bad_atlas,
]


def next_reply(socket: zmq.Socket, what: str) -> dict:
    """The next reply's header, heartbeats skipped."""
    while True:
        assert socket.poll(10_000), f"{what} got no answer"
        _, body = protocol.split(socket.recv_multipart())
        reply = protocol.decode_header(body[0])
        if reply["type"] != "heartbeat":
            return reply


def test_thousands_of_malformed_messages_each_get_an_error(server: Server) -> None:
    rng = random.Random(20261126)
    seen: dict[str, int] = {}
    with zmq.Context() as context, context.socket(zmq.DEALER) as socket:
        socket.linger = 0
        socket.connect(server.endpoint)
        for number in range(MESSAGES):
            generator = rng.choice(GENERATORS)
            frames, codes = generator(rng)
            socket.send_multipart(frames)
            reply = next_reply(socket, f"message {number} ({generator.__name__}: {frames[:2]!r})")
            if reply["type"] == "accepted":  # found wrong by the engine (too small, channel numbers): then an error
                reply = next_reply(socket, f"the job of message {number} ({generator.__name__})")
            assert reply["type"] == "error", (generator.__name__, frames[:2], reply)
            assert reply["code"] in codes, (generator.__name__, frames[:2], reply)
            assert reply["message"]
            seen[generator.__name__] = seen.get(generator.__name__, 0) + 1
    assert set(seen) == {generator.__name__ for generator in GENERATORS}
    assert server.process.poll() is None


def routing_id(rng: random.Random) -> bytes:
    """Ids a peer may claim: any bytes, ids other peers hold, and ids of ZeroMQ's own form near its first one."""
    kind = rng.random()
    if kind < 0.3:
        return b"\x00" + (0x6B8B4567 + rng.randrange(400)).to_bytes(4, "big")
    if kind < 0.6:
        return rng.choice([b"a", b"victim", b"\xff" * 255, b"\x00\x00\x00\x00\x01"])
    return rng.randbytes(rng.randrange(1, 256))


def test_peers_choosing_their_routing_ids_are_answered_or_ignored_and_break_nothing(server: Server) -> None:
    rng = random.Random(7)
    answered = 0
    with zmq.Context() as context:
        for _ in range(3):  # rounds of at most 100 connections, under the server's connection limit
            sockets = []
            for _ in range(100):
                socket = context.socket(zmq.DEALER)
                socket.linger = 0
                socket.setsockopt(zmq.ROUTING_ID, routing_id(rng))
                socket.connect(server.endpoint)
                frames, _ = rng.choice(GENERATORS)(rng)
                socket.send_multipart(frames)
                sockets.append(socket)
            poller = zmq.Poller()
            for socket in sockets:
                poller.register(socket, zmq.POLLIN)
            heard: set[zmq.Socket] = set()
            deadline = time.monotonic() + 5  # a peer whose id another holds is ignored by ZeroMQ: never answered
            while len(heard) < len(sockets) and (left := deadline - time.monotonic()) > 0:
                for socket, _ in poller.poll(left * 1000):
                    socket.recv_multipart()
                    heard.add(socket)
            answered += len(heard)
            for socket in sockets:
                socket.close()
    assert answered > 100
    test_a_valid_job_succeeds_after_the_fuzzing(server)
    assert "Assertion failed" not in server.log.read_text()


GOOD_PIXELS = bytes(100 * 100 * 3)
ECHOES = [
    ([b"", b'{"v": 1, "type": "dream", "job": "nan-1", "params": {"steps": NaN}}', GOOD_PIXELS], "bad_request"),
    ([b"", header(type="dream", job="bad id!", params=TINY, image=GOOD_IMAGE), GOOD_PIXELS], "bad_request"),
    ([b"", header(type="dream", job="range-1", params={"steps": 0}, image=GOOD_IMAGE), GOOD_PIXELS], "bad_request"),
    ([b"", header(type="dream", job="big-1", params=TINY, image={**GOOD_IMAGE, "width": 201})], "too_large"),
    (
        [b"", header(type="dream", job="model-1", params={"model": "vgg"}, image=GOOD_IMAGE), GOOD_PIXELS],
        "unknown_model",
    ),
    ([b"", header(type="cancel", job="never-1")], "unknown_job"),
    ([b"", header(type="hello", req="r" * 65)], "bad_request"),
    ([b"", json.dumps({"v": 2, "type": "hello", "req": "old-1"}).encode()], "version_mismatch"),
    ([b"", header(type="launch", job="what-1")], "bad_request"),
]


@pytest.mark.parametrize(("frames", "code"), ECHOES)
def test_every_error_echoes_the_job_or_req_the_header_names(server: Server, frames: list[bytes], code: str) -> None:
    """A client with several requests out can tell which one failed, whatever made it fail."""
    sent = json.loads(frames[1].replace(b"NaN", b"1"))
    with zmq.Context() as context, context.socket(zmq.DEALER) as socket:
        socket.linger = 0
        socket.connect(server.endpoint)
        socket.send_multipart(frames)
        reply = next_reply(socket, repr(frames[1]))
    assert (reply["type"], reply["code"]) == ("error", code)
    assert {key: reply[key] for key in ("job", "req") if key in reply} == {
        key: sent[key] for key in ("job", "req") if key in sent
    }


def test_a_job_sent_again_on_its_connection_is_accepted_again_runs_once_and_its_id_is_free_after(
    server: Server,
) -> None:
    """A client that feared its request lost with a dropped connection sends it again; ZeroMQ may deliver both."""
    endless = header(type="dream", job="twice", params=ENDLESS, image=GOOD_IMAGE)
    with zmq.Context() as context, context.socket(zmq.DEALER) as socket:
        socket.linger = 0
        socket.connect(server.endpoint)
        socket.send_multipart([b"", endless, GOOD_PIXELS])
        first = next_reply(socket, "the first job")
        assert first["type"] == "accepted"
        socket.send_multipart([b"", endless, GOOD_PIXELS])
        again = next_reply(socket, "the same job sent again")
        while again["type"] == "progress":
            again = next_reply(socket, "the same job sent again")
        assert (again["type"], again["job"]) == ("accepted", "twice")
        socket.send_multipart([b"", header(type="cancel", job="twice")])
        while (reply := next_reply(socket, "the cancel"))["type"] == "progress":
            pass
        assert reply == {"v": 1, "type": "cancelled", "job": "twice"}
        tiny = header(type="dream", job="twice", params={**TINY, "seed": 1}, image=GOOD_IMAGE)
        socket.send_multipart([b"", tiny, GOOD_PIXELS])
        while (reply := next_reply(socket, "the job again"))["type"] in ("accepted", "progress"):
            pass
        assert (reply["type"], reply["job"], reply["seed"]) == ("result", "twice", 1)


def test_a_frame_over_the_size_limit_is_dropped_and_others_are_still_served(server: Server) -> None:
    limit = server.facts()["limits"]["max_message_bytes"]
    with zmq.Context() as context, context.socket(zmq.DEALER) as socket:
        socket.linger = 0
        socket.connect(server.endpoint)
        socket.send_multipart([b"", header(type="hello", req="big"), bytes(limit + 1)])
        assert not socket.poll(1000), "a message over MAXMSGSIZE must be dropped, not answered"
    assert server.facts()["state"] == "ready"


def test_a_valid_job_succeeds_after_the_fuzzing(server: Server) -> None:
    pixels = image(100, 100, 3, "u8")
    with server.client() as client:
        result = client.run(pixels.tobytes(), params={**TINY, "seed": 3}, **layout(pixels))
    assert isinstance(result, Result) and result.seed == 3
    guide = image(40, 30, 4, "f32")
    with server.client() as client:
        guided = client.run(
            pixels.tobytes(),
            params={**TINY, "seed": 3},
            guide=Guide(guide.tobytes(), **layout(guide)),
            **layout(pixels),
        )
    assert guided.seed == 3 and guided.pixels != result.pixels
    strength = image(20, 10, 1, "f32")
    with server.client() as client:
        painted = client.run(
            pixels.tobytes(),
            params={**TINY, "seed": 3},
            strength=Strength(strength.tobytes(), **layout(strength)),
            **layout(pixels),
        )
    assert painted.seed == 3 and painted.pixels not in (result.pixels, pixels.tobytes())
    assert "Traceback" not in server.log.read_text()


def test_a_valid_job_with_snapshots_gets_them_after_the_fuzzing(server: Server) -> None:
    pixels = image(100, 100, 3, "u8")
    with server.client() as client:
        job = client.submit(pixels.tobytes(), params=TINY, snapshots=SnapshotRequest(50, 64), **layout(pixels))
        events = list(client.events(job))
    assert [type(event).__name__ for event in events if not isinstance(event, Progress)][-2:] == ["Snapshot", "Result"]
