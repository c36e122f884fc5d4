"""The plug-in's conversation with the server, driven with a scripted client instead of a socket."""

from __future__ import annotations

from collections import deque
from pathlib import Path
from typing import Any

import pytest

from reverie_plugin import messages, session
from reverie_plugin.messages import PluginFailure
from reverie_wire.client import Cancelled, Progress, Queued, Result
from reverie_wire.errors import Busy, ClientTimeout, ReverieError, ServerNotRunning, Unauthorized
from reverie_wire.images import Image

PIXELS = Image(b"\x01\x02\x03" * 4, 2, 2, 3, "u8")
RESULT = Result("job", b"\x09" * 12, 2, 2, 3, "u8", 99, 1.5, 1.0, [])


class Sink:
    """Records what the plug-in would show in GIMP's progress bar."""

    def __init__(self) -> None:
        self.texts: list[str] = []
        self.fractions: list[float] = []
        self.pulses = 0

    def text(self, text: str) -> None:
        self.texts.append(text)

    def fraction(self, value: float) -> None:
        self.fractions.append(value)

    def pulse(self) -> None:
        self.pulses += 1


class ScriptedClient:
    """Answers hello from a list (an exception or a dict each call) and poll from a queue."""

    def __init__(self, hellos: list[Any] = (), events: list[Any] = (), busy_waits: list[float] = ()) -> None:
        self.busy_waits = list(busy_waits)  # the server turns the job away this many times, for these waits
        self.hellos = deque(hellos)
        self.events = deque(events)
        self.submitted: list[dict[str, Any]] = []
        self.cancelled: list[str] = []

    def hello(self) -> dict:
        answer = self.hellos.popleft()
        if isinstance(answer, BaseException):
            raise answer
        return answer

    def submit(self, pixels: bytes, **spec: Any) -> str:
        self.submitted.append({"pixels": pixels, **spec})
        return "job"

    def submit_waiting(self, pixels: bytes, *, on_busy: Any, **spec: Any) -> str:
        for seconds in self.busy_waits:
            on_busy(Busy("queue full"), seconds)
        return self.submit(pixels, **spec)

    def poll(self, timeout: float = 0.0) -> Any:
        event = self.events.popleft() if self.events else None
        if isinstance(event, BaseException):
            raise event
        return event

    def cancel(self, job_id: str) -> None:
        self.cancelled.append(job_id)


def test_dream_reports_progress_and_returns_the_result() -> None:
    events = [None, Progress("job", 0.5, 1, 2, 3, 4, 1), None, RESULT]
    client, sink = ScriptedClient(events=events), Sink()
    assert session.dream(client, PIXELS, {"seed": 99}, sink, preview=False) is RESULT
    assert client.submitted == [
        {
            "pixels": PIXELS.pixels,
            "width": 2,
            "height": 2,
            "channels": 3,
            "dtype": "u8",
            "params": {"seed": 99},
            "guide": None,
            "snapshots": None,
            "strength": None,
        }
    ]

    assert sink.fractions == [0.5]
    assert sink.texts == [messages.SENDING, "Dreaming: octave 1/2, step 3/4"]
    assert client.cancelled == []


def test_progress_text_says_how_long_is_left_when_the_server_estimates_it() -> None:
    events = [Progress("job", 0.5, 2, 3, 15, 20, 1, 12.4), RESULT]
    client, sink = ScriptedClient(events=events), Sink()
    session.dream(client, PIXELS, {}, sink, preview=False)
    assert sink.texts[-1] == "Dreaming: octave 2/3, step 15/20 (~12 s left)"


def test_a_job_waiting_behind_others_says_how_many_are_ahead() -> None:
    client, sink = ScriptedClient(events=[Queued("job", 2), None, Progress("job", 0.5, 1, 2, 3, 4, 1), RESULT]), Sink()
    assert session.dream(client, PIXELS, {}, sink, preview=False) is RESULT
    assert sink.texts == [
        messages.SENDING,
        "Waiting for the dream server: 2 jobs ahead of this one…",
        "Dreaming: octave 1/2, step 3/4",
    ]
    assert sink.pulses == 1 and sink.fractions == [0.5]


def test_a_busy_server_is_asked_again_and_the_progress_text_says_so() -> None:
    client, sink = ScriptedClient(events=[RESULT], busy_waits=[0.5, 1.4]), Sink()
    assert session.dream(client, PIXELS, {}, sink, preview=False) is RESULT
    assert sink.texts == [
        messages.SENDING,
        "The dream server is busy; sending the dream again in 1 s…",
        "The dream server is busy; sending the dream again in 2 s…",
    ]
    assert sink.pulses == 2 and len(client.submitted) == 1


def test_a_strength_map_goes_with_the_dream_as_one_grey_channel() -> None:
    from reverie_wire.client import Strength

    client = ScriptedClient(events=[RESULT])
    strength = Image(bytes(2 * 2), 2, 2, 1, "u8")
    session.dream(client, PIXELS, {"seed": 1}, Sink(), preview=False, strength=strength)
    assert client.submitted[0]["strength"] == Strength(bytes(4), 2, 2, 1, "u8")


def test_a_guide_goes_with_the_dream_in_its_own_layout() -> None:
    from reverie_wire.client import Guide

    client = ScriptedClient(events=[RESULT])
    guide = Image(bytes(5 * 4 * 8), 5, 4, 2, "f32")
    session.dream(client, PIXELS, {"seed": 1}, Sink(), preview=False, guide=guide)
    assert client.submitted[0]["guide"] == Guide(bytes(5 * 4 * 8), 5, 4, 2, "f32")


def test_server_side_cancel_is_a_failure_with_advice() -> None:
    client = ScriptedClient(events=[Cancelled("job")])
    with pytest.raises(PluginFailure, match="run it again"):
        session.dream(client, PIXELS, {}, Sink(), preview=True)


def test_server_errors_pass_through_without_a_cancel() -> None:
    client = ScriptedClient(events=[ReverieError("out of memory", "job")])
    with pytest.raises(ReverieError, match="out of memory"):
        session.dream(client, PIXELS, {}, Sink(), preview=False)
    assert client.cancelled == []


def test_an_interrupt_cancels_the_job_on_the_server() -> None:
    client = ScriptedClient(events=[Progress("job", 0.1, 1, 1, 1, 9, 1), KeyboardInterrupt()])
    with pytest.raises(KeyboardInterrupt):
        session.dream(client, PIXELS, {}, Sink(), preview=False)
    assert client.cancelled == ["job"]


def test_connect_says_hello() -> None:
    sink = Sink()
    assert session.connect(ScriptedClient(hellos=[{"limits": {}}]), "tcp://127.0.0.1:5555", None, sink) == {
        "limits": {}
    }
    assert sink.texts == [messages.CONNECTING]


def test_connect_starts_a_local_server_with_the_launcher(tmp_path: Path) -> None:
    marker = tmp_path / "started"
    launcher = tmp_path / "reverie"
    launcher.write_text(f'#!/bin/sh\necho "$@" > {marker}\n')
    launcher.chmod(0o755)
    client, sink = ScriptedClient(hellos=[ServerNotRunning("nobody"), {"ok": 1}]), Sink()
    assert session.connect(client, "tcp://127.0.0.1:5999", str(launcher), sink) == {"ok": 1}
    assert marker.read_text().split() == ["start", "--endpoint", "tcp://127.0.0.1:5999"]
    assert messages.STARTING in sink.texts


def test_connect_without_a_launcher_explains_how_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    client = ScriptedClient(hellos=[ServerNotRunning("nobody")])
    with pytest.raises(PluginFailure, match=r"'reverie' command was not found.*install\.py"):
        session.connect(client, "tcp://127.0.0.1:5999", None, Sink())


def test_a_remote_server_is_never_started(tmp_path: Path) -> None:
    launcher = tmp_path / "reverie"
    launcher.write_text("#!/bin/sh\nexit 1\n")
    launcher.chmod(0o755)
    client = ScriptedClient(hellos=[ServerNotRunning("nobody")])
    with pytest.raises(PluginFailure, match="Start one on that machine"):
        session.connect(client, "tcp://10.1.2.3:5555", str(launcher), Sink())


def test_timeouts_are_short_on_this_machine_and_patient_elsewhere() -> None:
    assert session.client_timing("tcp://127.0.0.1:5555") == session.LOCAL_TIMING
    assert session.client_timing("tcp://dreams.example.org:5555") == session.REMOTE_TIMING
    assert session.LOCAL_TIMING[0] < session.REMOTE_TIMING[0]


def test_failure_text_keeps_reverie_messages_and_flags_bugs() -> None:
    assert messages.failure_text(ClientTimeout("the server went quiet")) == "Deep Dream: the server went quiet"
    bug = messages.failure_text(KeyError("x"))
    assert "unexpected KeyError" in bug and "image is unchanged" in bug


def test_a_result_in_another_layout_is_refused() -> None:
    wrong = Result("job", b"\x09" * 16, 2, 2, 4, "u8", 99, 1.5, 1.0, [])
    with pytest.raises(PluginFailure, match="sent back a 2×2 4-channel u8 image for a 2×2 3-channel u8 one"):
        session.dream(ScriptedClient(events=[wrong]), PIXELS, {}, Sink(), preview=False)


def test_a_refused_key_says_where_the_plugin_takes_its_keys_from() -> None:
    client = ScriptedClient(hellos=[Unauthorized("the dream server requires encryption")])
    with pytest.raises(PluginFailure, match=r"requires encryption\. For GIMP.*\[keys\] table"):
        session.connect(client, "tcp://10.1.2.3:5555", None, Sink())
