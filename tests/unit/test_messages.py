"""The typed messages: each request and reply read back as it was written, over the frames the wire carries."""

from __future__ import annotations

import json

import pytest

from reverie_wire import protocol, replies
from reverie_wire.errors import BadRequest, UnknownJob
from reverie_wire.images import Image
from reverie_wire.snapshots import SnapshotRequest

LIMITS = protocol.Limits(max_pixels=10_000, max_side=200)


def sent(request: protocol.Request) -> protocol.Request:
    """A request as the server reads it after the client encoded it."""
    _, header, *frames = protocol.encode(request.encode(), *request.frames)
    return protocol.parse_request([header, *frames], LIMITS)


def test_each_request_reads_back_as_it_was_written() -> None:
    guide, strength = Image(bytes(2 * 3 * 4), 2, 3, 4, "u8"), Image(bytes(5 * 4), 5, 1, 1, "f32")
    extras = {protocol.STRENGTH: strength, protocol.GUIDE: guide}  # sent in EXTRA_FRAMES order all the same
    dream = protocol.Dream("j1", {"steps": 2}, Image(bytes(30), 5, 2, 3, "u8"), SnapshotRequest(100, 64), extras)
    assert sent(dream) == dream
    assert sent(protocol.Hello("r1")) == protocol.Hello("r1") and sent(protocol.Hello()) == protocol.Hello()
    assert sent(protocol.Cancel("j1", keep=True)) == protocol.Cancel("j1", keep=True)


@pytest.mark.parametrize("kind", [["dream"], {"a": 1}, 3, None])
def test_a_type_that_is_no_name_is_a_bad_request(kind: object) -> None:
    with pytest.raises(BadRequest, match="unknown request type"):
        protocol.parse_request([json.dumps({"v": 1, "type": kind}).encode()], LIMITS)


@pytest.mark.parametrize(
    "reply",
    [
        replies.Accepted("j", 2, 3),
        replies.Progress("j", 0.5, 1, 3, 2, 20, 1),
        replies.Progress("j", 0.5, 1, 3, 2, 20, 4, seconds_left=7.5),
        replies.Snapshot("j", bytes(2 * 2 * 3), 2, 2, 1, 3, 4, 20, 0.1, True),
        replies.Result("j", bytes(6), 2, 1, 3, "u8", 7, 1.5, 1.0, ["a note"], {"octave": 1}),
        replies.Result("j", bytes(8), 1, 1, 2, "f32", 7, 1.5, 1.0),
        replies.Cancelled("j"),
        replies.Error("busy", "full", job="j"),
    ],
)
def test_each_reply_reads_back_as_it_was_written(reply: replies.Reply) -> None:
    _, header, *frames = protocol.encode(reply.encode(), *reply.frames)
    decoded = replies.JOB_REPLIES[reply.type].decode(protocol.decode_header(header), *frames)
    assert decoded == reply


def test_a_result_whose_frame_does_not_fill_its_layout_is_refused() -> None:
    header = replies.Result("j", bytes(6), 2, 1, 3, "u8", 7, 1.5, 1.0).encode()
    with pytest.raises(ValueError, match="needs 6"):
        replies.Result.decode(header, bytes(5))


def test_an_error_names_only_the_ids_it_has_and_becomes_its_codes_exception() -> None:
    assert replies.Error("unknown_job", "gone").encode() == {"type": "error", "code": "unknown_job", "message": "gone"}
    raised = replies.Error.decode({"type": "error", "code": "unknown_job", "message": "gone", "job": "j"}).exception()
    assert isinstance(raised, UnknownJob) and raised.job_id == "j"
