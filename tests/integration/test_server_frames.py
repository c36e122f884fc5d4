"""A clip dreamed frame by frame through a real server on real sockets: each frame after the first is sent with
the previous source frame and its dream, and starts from that dream carried along the motion; previous frames
of another size are refused with a message that says so."""

from __future__ import annotations

import json
from collections.abc import Iterator

import numpy as np
import pytest
import zmq
from server_harness import TINY, Server, layout, start_server

from reverie.imaging.motion import motion
from reverie_wire import protocol
from reverie_wire.client import Result
from reverie_wire.images import Image

SIZE = 96
PARAMS = {**TINY, "steps": 3, "seed": 5}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = start_server(tmp_path_factory.mktemp("frames"))
    yield server
    assert server.stop() == 0


def clip(frames: int) -> list[np.ndarray]:
    """A window moving 3 px right and 2 down a frame over smooth random colour (u8 RGB)."""
    rng = np.random.default_rng(3)
    coarse = rng.integers(0, 256, (SIZE // 6 + 4, SIZE // 6 + 4, 3)).astype(np.float32)
    big = np.kron(coarse, np.ones((6, 6, 1), np.float32))
    kernel = np.ones(5, np.float32) / 5
    for axis in (0, 1):
        big = np.apply_along_axis(lambda line: np.convolve(line, kernel, mode="same"), axis, big)
    return [
        np.ascontiguousarray(big[8 + 2 * i : 8 + 2 * i + SIZE, 8 + 3 * i : 8 + 3 * i + SIZE]).astype(np.uint8)
        for i in range(frames)
    ]


def picture(pixels: np.ndarray) -> Image:
    return Image(pixels.tobytes(), **layout(pixels))


def decode(result: Result) -> np.ndarray:
    return np.frombuffer(result.pixels, np.uint8).reshape(result.height, result.width, result.channels)


def as_float(pixels: np.ndarray) -> np.ndarray:
    return pixels.astype(np.float32) / 255


def test_a_three_frame_clip_follows_the_motion(server: Server) -> None:
    sources = clip(3)
    with server.client() as client:
        first = decode(client.run(sources[0].tobytes(), params=PARAMS, **layout(sources[0])))
        dreams = [first]
        for index in (1, 2):
            previous = {"previous_source": picture(sources[index - 1]), "previous_dream": picture(dreams[-1])}
            result = client.run(sources[index].tobytes(), params=PARAMS, **previous, **layout(sources[index]))
            assert (result.width, result.height, result.channels, result.dtype) == (SIZE, SIZE, 3, "u8")
            dreams.append(decode(result))
        alone = decode(client.run(sources[2].tobytes(), params=PARAMS, **layout(sources[2])))
    moved = motion(as_float(sources[1]), as_float(sources[2]))
    assert moved.mask.mean() > 0.8
    before = moved.carried(as_float(dreams[1]))
    carried_change = np.abs(as_float(dreams[2]) - before).mean(axis=2)[moved.mask].mean()
    alone_change = np.abs(as_float(alone) - before).mean(axis=2)[moved.mask].mean()
    # The carried frame is its own dream (not the source, not the alone dream) and closer to the one before.
    assert not np.array_equal(dreams[2], alone) and not np.array_equal(dreams[2], sources[2])
    assert carried_change < alone_change
    assert "Traceback" not in server.log.read_text()


def test_a_previous_dream_of_another_size_is_refused_by_the_server(server: Server) -> None:
    frame = clip(1)[0]
    smaller = np.ascontiguousarray(frame[:, :80])
    fields = {
        "type": "dream",
        "job": "clip-2",
        "params": PARAMS,
        "image": layout(frame),
        "previous_source": layout(frame),
        "previous_dream": layout(smaller),
    }
    with zmq.Context() as context, context.socket(zmq.DEALER) as socket:
        socket.linger = 0
        socket.connect(server.endpoint)
        socket.send_multipart(protocol.encode(fields, frame.tobytes(), frame.tobytes(), smaller.tobytes()))
        assert socket.poll(10_000), "the server did not answer"
        reply = json.loads(socket.recv_multipart()[1])
    assert reply["type"] == "error" and reply["code"] == "bad_request" and reply["job"] == "clip-2"
    assert reply["message"] == (
        "previous_dream: the previous frame is 80x96 but the image is 96x96; a clip's frames are all one size"
    )
