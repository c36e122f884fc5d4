"""Talking to the dream server from GIMP's main thread: connect (starting a local server if need be),
submit, and follow the job (``live.FollowedJob``) until the result, reporting progress through a small sink
the plug-in implements.

No thread and no GIMP call here: the sink is the only way out, so tests drive this with fakes.
"""

from __future__ import annotations

from typing import Any, Protocol

from reverie_plugin import messages
from reverie_plugin.launcher import find_launcher, start_command, start_server
from reverie_plugin.live import FollowedJob, Outcome
from reverie_plugin.messages import PluginFailure
from reverie_wire.client import Cancelled, DreamClient, Progress, Queued, Result, Snapshot
from reverie_wire.config import KeyFiles
from reverie_wire.errors import ServerNotRunning, Unauthorized
from reverie_wire.images import Image
from reverie_wire.keys import client_options
from reverie_wire.protocol import is_loopback

POLL_SECONDS = 0.05
# (timeout, retries) bound hello and a job's acceptance only: a local server answers within milliseconds, so
# silence means "not running" much sooner than across a network. A queued or running job lives as long as
# the server's heartbeats arrive (DreamClient.silence_limit), however long its gradient steps take.
LOCAL_TIMING = (2.0, 2)
REMOTE_TIMING = (5.0, 3)


class ProgressSink(Protocol):
    """Where progress goes; GIMP's progress bar in the plug-in, a recorder in tests."""

    def text(self, text: str) -> None: ...

    def fraction(self, value: float) -> None: ...

    def pulse(self) -> None: ...


def client_timing(endpoint: str) -> tuple[float, int]:
    """DreamClient's ``(timeout, retries)`` for an endpoint: short on this machine, patient elsewhere."""
    return LOCAL_TIMING if is_loopback(endpoint) else REMOTE_TIMING


def open_client(endpoint: str, keys: KeyFiles) -> DreamClient:
    """A client for ``endpoint`` with the timing its place calls for and the configured keys."""
    timeout, retries = client_timing(endpoint)
    return DreamClient(endpoint, timeout=timeout, retries=retries, **client_options(keys))


def _hello(client: DreamClient) -> dict:
    """hello, with a refused key turned into advice about the plug-in's side of the keys."""
    try:
        return client.hello()
    except Unauthorized as error:
        raise PluginFailure(messages.unauthorized_text(str(error))) from error


def connect(client: DreamClient, endpoint: str, recorded_launcher: str | None, sink: ProgressSink) -> dict:
    """Say hello; when nothing answers a local endpoint, start a server with ``reverie start`` first."""
    sink.text(messages.CONNECTING)
    try:
        return _hello(client)
    except ServerNotRunning as error:
        local = is_loopback(endpoint)
        launcher = find_launcher(recorded_launcher) if local else None
        if launcher is None:
            raise PluginFailure(messages.no_server_text(endpoint, local)) from error
    sink.text(messages.STARTING)
    start_server(start_command(launcher, endpoint), sink.pulse)
    sink.text(messages.CONNECTING)
    return _hello(client)


def check_layout(result: Result, sent: Image) -> None:
    """The dream must come back exactly as the image went, or it cannot be placed."""
    got = (result.width, result.height, result.channels, result.dtype)
    expected = (sent.width, sent.height, sent.channels, sent.dtype)
    if got != expected or len(result.pixels) != len(sent.pixels):  # GEGL would read past a short buffer
        raise PluginFailure(
            f"the dream server sent back a {got[0]}×{got[1]} {got[2]}-channel {got[3]} image for a "
            f"{expected[0]}×{expected[1]} {expected[2]}-channel {expected[3]} one; update the server and the "
            "plug-in to the same Reverie release"
        )


def submit(
    client: DreamClient,
    pixels: Image,
    params: dict[str, Any],
    guide: Image | None = None,
    snapshots: Any = None,
    sink: ProgressSink | None = None,
    strength: Image | None = None,
    previous: tuple[Image, Image] | None = None,
) -> str:
    """Send one dream (with its guide image, snapshot request, strength map and a clip's previous source frame
    and dream, if any); its job id once queued. With a ``sink``, a busy server is asked again until it takes the
    dream, and the sink says so meanwhile."""
    from reverie_wire.protocol import PREVIOUS

    job: dict[str, Any] = {
        **pixels.layout(),
        "params": params,
        "guide": guide,
        "snapshots": snapshots,
        "strength": strength,
    }
    if previous is not None:  # a clip's frame (Deep Dream Frames)
        for name, each in zip(PREVIOUS, previous, strict=True):
            job[name] = each
    if sink is None:
        return client.submit(pixels.pixels, **job)
    waiting = sink

    def busy(_: Exception, seconds: float) -> None:
        waiting.text(messages.busy_text(seconds))
        waiting.pulse()

    return client.submit_waiting(pixels.pixels, on_busy=busy, **job)


class _ProgressBar:
    """A followed job's progress on the sink (a plain run asks for no snapshots)."""

    def __init__(self, sink: ProgressSink, preview: bool) -> None:
        self._sink = sink
        self._preview = preview

    def queued(self, event: Queued) -> None:
        self._sink.text(messages.queued_text(event.ahead))
        self._sink.pulse()

    def snapshot(self, event: Snapshot) -> None:
        """None come: a plain run asks for none."""

    def progress(self, event: Progress) -> None:
        self._sink.fraction(event.fraction)
        self._sink.text(
            messages.progress_text(
                event.octave, event.octaves, event.step, event.steps, self._preview, event.seconds_left
            )
        )

    def finished(self, outcome: Outcome) -> None:
        """The outcome is read from the job once ``pump`` says it has ended."""


def dream(
    client: DreamClient,
    pixels: Image,
    params: dict[str, Any],
    sink: ProgressSink,
    preview: bool,
    guide: Image | None = None,
    strength: Image | None = None,
    previous: tuple[Image, Image] | None = None,
) -> Result:
    """Submit one dream (with its guide image, strength map and a clip's previous frame, if any) and follow it
    until its result, updating the sink; cancel it if this is interrupted."""
    sink.text(messages.SENDING)
    job_id = submit(client, pixels, params, guide, sink=sink, strength=strength, previous=previous)
    job = FollowedJob(client, job_id, _ProgressBar(sink, preview))
    try:
        while job.pump(POLL_SECONDS):
            pass
    except BaseException:
        # A signal or a bug, not the job's end (``pump`` keeps those): it still runs, so tell the server to stop it.
        job.cancel()
        raise
    outcome = job.outcome
    if isinstance(outcome, Result):
        check_layout(outcome, pixels)
        return outcome
    if isinstance(outcome, Cancelled):
        raise PluginFailure("the dream server cancelled the dream (was it stopped?); run it again")
    raise outcome  # a ReverieError: the job failed, or the server is gone; nothing to cancel
