"""Live dreaming in the Deep Dream dialog: the preview pane's job, and the full run's progress window.

GIMP-dependent, main thread only. Jobs are followed by a GLib timer that takes what the server has sent
without waiting, so the dialog stays responsive; no job is ever left running on the server when the
dialog closes.
"""

from __future__ import annotations

import random
import time
import traceback
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import gi

gi.require_version("Gimp", "3.0")
from gi.repository import Gimp, GLib  # noqa: E402

from reverie_plugin import arguments, canvas, command_line, dream_again, geometry, messages, runs, settings  # noqa: E402
from reverie_plugin.formats import WireFormat, cut  # noqa: E402
from reverie_plugin.geometry import Rect  # noqa: E402
from reverie_plugin.live_widgets import (  # noqa: E402
    DONE_RESPONSE,
    STOP_RESPONSE,
    PreviewPane,
    ProgressWindow,
    copy_to_clipboard,
)
from reverie_plugin.messages import DreamStopped  # noqa: E402
from reverie_plugin.pyzmq_check import require_pyzmq  # noqa: E402
from reverie_wire.errors import ReverieError  # noqa: E402

# How often the main loop takes what the server has sent.
PUMP_MS = 40
# How long closing waits for the server to confirm a cancelled job (it stops within one step).
CLOSE_WAIT = 5.0
# What the pane shows: 8-bit RGB, as snapshots come.
PANE_FORMAT = WireFormat("R'G'B' u8", 3, "u8")
SNAPSHOT_EVERY_MS = 250
# The full run's snapshots: small, for its progress window (the server shrinks them).
WINDOW_SNAPSHOT_SIDE = 320
# The files "Copy as command" names for an image never saved, for the guide layer and for the strength mask
# (exported by the artist).
SOURCE_NAME = "source.png"
GUIDE_NAME = "guide.png"
STRENGTH_NAME = "strength.png"
# The most pixels of the region the pane holds (RGB, 48 MB); a larger region shows shrunk.
PANE_MAX_PIXELS = 16_000_000


class PaneSink:
    """session.ProgressSink on the pane's caption (connecting, starting a server)."""

    def __init__(self, pane: PreviewPane) -> None:
        self._pane = pane

    def text(self, text: str) -> None:
        self._pane.say(text)
        _flush_events()

    def fraction(self, value: float) -> None:
        pass

    def pulse(self) -> None:
        _flush_events()


def _flush_events() -> None:
    """Let GTK draw a changed caption before a blocking step (a server start)."""
    context = GLib.MainContext.default()
    while context.pending():
        context.iteration(False)


@dataclass(frozen=True)
class Previewed:
    """A finished preview: with the values it was made with, it stands in for the full run when it covers the
    whole region."""

    values: dict[str, Any]
    plan: runs.Plan
    result: Any
    details: dict[str, Any]


class LiveDialog:
    """The dialog's pane and its preview jobs; one client for the dialog's life."""

    def __init__(
        self,
        dialog: Any,
        image: Gimp.Image,
        drawables: list[Gimp.Drawable],
        config: Gimp.ProcedureConfig,
        here: Path,
        recalled: Any = None,
    ) -> None:
        """``recalled``: the dream layer being dreamed again (recall.Recalled), or None."""
        self.pane = PreviewPane(self.crop_moved)
        self._recalled = recalled
        self._facts: dict[str, Any] = {}
        if recalled is not None:
            self.pane.notice(messages.dreaming_again_text(recalled.dream, drawables[0].get_name()))
        self._dialog, self._title = dialog, dialog.get_title()
        self._image, self._drawables, self._config, self._here = image, drawables, config, here
        self._client: Any = None
        self._job: Any = None
        self._timer: int | None = None
        self._plan: runs.Plan | None = None
        self._values: dict[str, Any] = {}
        self._params: dict[str, Any] = {}
        self._endpoint = ""
        self._done: Previewed | None = None
        self._show_source()

    # -- the pane ------------------------------------------------------------------------------

    def _show_source(self) -> None:
        try:
            plan = runs.plan_run(self._image, self._drawables, preview=True)
        except ReverieError as error:
            self.pane.say(messages.failure_text(error))
            return
        region = plan.region
        # A large region shows shrunk (its crop's dream still comes at full size).
        scale = min(1.0, (PANE_MAX_PIXELS / (region.width * region.height)) ** 0.5)
        shrunk = Rect(
            int(region.x * scale), int(region.y * scale), int(region.width * scale), int(region.height * scale)
        )
        rgb = canvas.read_pixels(plan.drawable, shrunk, PANE_FORMAT, scale)
        self.pane.set_source(region, plan.shown, rgb, shrunk.width, shrunk.height)
        self.pane.say(messages.pane_idle_text(plan.shown.width, plan.shown.height))

    def crop_moved(self, crop: Rect) -> None:
        """The artist dragged the picture: the next preview dreams the new crop; a running one stops."""
        if self._job is not None and self._job.running:
            self._job.cancel()
        self._done = None
        self.pane.say(messages.pane_idle_text(crop.width, crop.height))

    def snapshot(self, event: Any) -> None:
        plan = self._plan
        if plan is None:
            return
        sent, shown = plan.sent, plan.shown
        if (event.width, event.height) == (sent.width, sent.height):
            self.pane.show_dream(cut(event.pixels, sent, shown, PANE_FORMAT), shown.width, shown.height)
        else:  # a server that shrank it: show it whole
            self.pane.show_dream(event.pixels, event.width, event.height)
        self.pane.say(messages.progress_text(event.octave, event.octaves, event.step, event.steps, True))

    def queued(self, event: Any) -> None:
        self.pane.say(messages.queued_text(event.ahead))

    def progress(self, event: Any) -> None:
        self.pane.say(messages.progress_text(event.octave, event.octaves, event.step, event.steps, True))

    def finished(self, outcome: Any) -> None:
        from reverie_wire.client import Cancelled, Result

        self._dialog.set_title(self._title)
        if isinstance(outcome, Result):
            if outcome.partial is None and self._plan is not None:
                settings = dream_again.settings_record(self._values, outcome.seed)
                server = dream_again.server_record(self._facts)
                details = canvas.layer_details(
                    self._params, self._endpoint, outcome, 0.0, outcome.seconds, settings, server
                )
                self._done = Previewed(self._values, self._plan, outcome, details)
                self.pane.say(messages.pane_done_text(outcome.seed, self._plan.covers_region))
            else:
                self.pane.say(messages.pane_stopped_text(outcome.partial or {}))
        elif isinstance(outcome, Cancelled):
            self.pane.say(messages.PANE_CANCELLED)
        else:
            self.pane.say(messages.failure_text(outcome))

    # -- buttons and settings --------------------------------------------------------------------

    def preview(self) -> None:
        """Dream the pane's crop with the dialog's values; a running preview is cancelled first."""
        self._drop_job()
        self._done = None
        try:
            self._start_preview()
        except Exception as error:
            if not isinstance(error, ReverieError):
                traceback.print_exc()
            self.pane.say(messages.failure_text(error))

    def _start_preview(self) -> None:
        from reverie_plugin.live import FollowedJob
        from reverie_plugin.session import submit
        from reverie_wire.images import Image
        from reverie_wire.snapshots import SnapshotRequest

        values = runs.values_of(self._config)
        plan = runs.plan_run(self._image, self._drawables, preview=True, focus=self.pane.crop)
        params = arguments.dream_params(values, arguments.resolve_seed(values["seed"], random.SystemRandom()))
        client, facts = self._connect(values)
        params = geometry.preview_params(arguments.with_server_model(params, facts), plan.region)
        sent = plan.sent
        data = canvas.read_pixels(plan.drawable, sent, plan.wire)
        guided = canvas.read_guide(values["guide"])
        painted = canvas.read_strength(values["strength"], plan.drawable, sent)
        self.pane.say(messages.SENDING)
        pixels = Image(data, sent.width, sent.height, plan.wire.channels, plan.wire.dtype)
        snapshots = SnapshotRequest(SNAPSHOT_EVERY_MS, max(sent.width, sent.height))
        job = submit(client, pixels, params, guided and Image(*guided), snapshots, strength=painted and Image(*painted))
        self._plan, self._values, self._params = plan, values, params
        self._job = FollowedJob(client, job, self)
        self._timer = GLib.timeout_add(PUMP_MS, self._pump)
        self._dialog.set_title(messages.previewing_title(self._title))

    def _connect(self, values: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        """The dialog's client for the endpoint the values name (a new one if the endpoint changed)."""
        require_pyzmq()
        from reverie_plugin import session

        config = settings.load(self._here)
        endpoint = settings.resolve_endpoint(values["endpoint"], config)
        if self._client is not None and endpoint != self._endpoint:
            self._client.close()
            self._client = None
        if self._client is None:
            self._client = session.open_client(endpoint, config.client.keys)
            self._endpoint = endpoint
        facts = session.connect(self._client, endpoint, config.launcher, PaneSink(self.pane))
        self._facts = facts
        if self._recalled is not None:
            changed = dream_again.differences(self._recalled.server, facts)
            again = messages.dreaming_again_text(self._recalled.dream, self._drawables[0].get_name())
            self.pane.notice(again + messages.server_differs_text(changed))
        return self._client, facts

    def _pump(self) -> bool:
        job = self._job
        alive = job is not None and job.pump()
        if not alive:
            self._timer = None
        return alive

    def stop(self) -> None:
        """Stop the running preview and keep what has formed in the pane."""
        if self._job is not None and self._job.running:
            self._job.stop()
            self.pane.say(messages.STOPPING)

    def settings_changed(self) -> None:
        """A setting changed: the running preview no longer shows these settings, so it stops at once."""
        if self._job is not None and self._job.running:
            self._job.cancel()
            self.pane.say(messages.PANE_SETTINGS_CHANGED)

    def copy_command(self) -> None:
        """Put the ``reverie dream`` line that dreams these settings on the clipboard, and show it. A random
        seed (0) becomes a fixed one in the dialog too, so OK dreams what the line does."""
        values = runs.values_of(self._config)
        if not values["seed"]:
            values["seed"] = arguments.resolve_seed(0, random.SystemRandom())
            self._config.set_property("seed", values["seed"])
        try:
            params = arguments.dream_params(values, values["seed"])
            endpoint = settings.resolve_endpoint(values["endpoint"], settings.load(self._here))
        except ReverieError as error:
            self.pane.say(messages.failure_text(error))
            return
        source = self._image.get_file()
        line = command_line.dream_command(
            params,
            endpoint,
            source.get_basename() if source is not None else SOURCE_NAME,
            f"deep-dream-{values['seed']}.png",
            None if values["guide"] is None else GUIDE_NAME,
            None if values["strength"] is None else STRENGTH_NAME,
        )
        copy_to_clipboard(line)
        exports = [
            name for name, key in ((GUIDE_NAME, "guide"), (STRENGTH_NAME, "strength")) if values[key] is not None
        ]
        self.pane.say(messages.copied_text(line, exports))

    def browse_channels(self) -> None:
        """The channel browser on the server's model, opened on the Layers field's layer: each click on a tile
        adds ``layer:channel`` to the field. A running preview stops first (the browser's job shares the client)."""
        from reverie_plugin.channel_browser import ChannelBrowser
        from reverie_plugin.layer_field import browsed_layer, with_channel
        from reverie_plugin.live import FollowedJob

        self._drop_job()
        values = runs.values_of(self._config)
        try:
            client, facts = self._connect(values)
        except ReverieError as error:
            self.pane.say(messages.failure_text(error))
            return
        model = facts.get("models", {}).get(facts.get("model"), {})
        layers = list(model.get("layers", []))
        if not facts.get("atlas") or not layers:
            self.pane.say(messages.NO_ATLAS)
            return
        preset = model.get("presets", {}).get(values["preset"], {})
        layer = browsed_layer(values["layers"] or "", layers, list(preset))

        def submit(order: Any, listener: Any) -> FollowedJob:
            return FollowedJob(client, client.submit_atlas(order), listener)

        def picked(name: str, channel: int) -> str:
            text = with_channel(self._config.get_property("layers") or "", name, channel)
            self._config.set_property("layers", text)
            return messages.atlas_added_text(name, channel, text)

        ChannelBrowser(self._dialog, layers, layer, submit, picked).run_browser()

    def reusable(self) -> tuple[runs.Plan, Any, dict[str, Any]] | None:
        """The finished preview when it already is the full run: the whole region, these very settings."""
        done = self._done
        if done is None or not done.plan.covers_region or done.values != runs.values_of(self._config):
            return None
        return replace(done.plan, preview=False), done.result, done.details

    def _drop_job(self) -> None:
        if self._job is not None and self._job.running:
            self._job.cancel()  # its Cancelled arrives later and is dropped
        if self._timer is not None:
            GLib.source_remove(self._timer)
            self._timer = None
        self._job = None

    def close(self) -> None:
        """The dialog closes: a running preview is cancelled and its end awaited, then the connection closed."""
        if self._timer is not None:
            GLib.source_remove(self._timer)
            self._timer = None
        if self._job is not None and self._job.running:
            self._job.cancel_and_wait(CLOSE_WAIT)
        if self._client is not None:
            self._client.close()
            self._client = None


class WindowListener:
    """The full run's events on its progress window and on GIMP's progress bar (``gimp``)."""

    def __init__(self, window: ProgressWindow, gimp: Any) -> None:
        self.window, self.gimp = window, gimp

    def queued(self, event: Any) -> None:
        self.window.say(messages.queued_text(event.ahead))
        self.gimp.text(messages.queued_text(event.ahead))

    def snapshot(self, event: Any) -> None:
        self.window.show_dream(event.pixels, event.width, event.height)

    def progress(self, event: Any) -> None:
        text = messages.progress_text(event.octave, event.octaves, event.step, event.steps, False, event.seconds_left)
        self.window.fraction(event.fraction)
        self.window.say(text)
        self.window.set_title(text)
        self.gimp.text(text)
        self.gimp.fraction(event.fraction)

    def finished(self, outcome: Any) -> None:
        self.window.response(DONE_RESPONSE)


def dream_in_window(
    client: Any, pixels: Any, params: dict[str, Any], guide: Any, gimp: Any, strength: Any = None
) -> Any:
    """Submit the full run and follow it in a progress window that shows the dream forming, and on GIMP's
    progress bar (``gimp``, a session.ProgressSink): Stop keeps what has formed (a partial result), Cancel or
    closing the window ends the job on the server and raises DreamStopped."""
    from reverie_plugin.live import FollowedJob
    from reverie_plugin.session import check_layout, submit
    from reverie_wire.client import Result
    from reverie_wire.snapshots import SnapshotRequest

    window = ProgressWindow(messages.DREAMING_TITLE)
    window.say(messages.SENDING)
    timer: list[int | None] = [None]
    try:
        snapshots = SnapshotRequest(SNAPSHOT_EVERY_MS, WINDOW_SNAPSHOT_SIDE)
        job_id = submit(client, pixels, params, guide, snapshots, strength=strength)
        job = FollowedJob(client, job_id, WindowListener(window, gimp))

        def pump() -> bool:
            alive = job.pump()
            if not alive:
                timer[0] = None
            return alive

        timer[0] = GLib.timeout_add(PUMP_MS, pump)
        while job.running:
            response = window.run()
            if response == STOP_RESPONSE:
                job.stop()
                window.say(messages.STOPPING)
                window.set_response_sensitive(STOP_RESPONSE, False)
            elif response != DONE_RESPONSE and job.running:
                started = time.monotonic()
                job.cancel_and_wait(CLOSE_WAIT)
                raise DreamStopped(f"cancelled; the server stopped the job in {time.monotonic() - started:.2f} s")
    finally:
        if timer[0] is not None:
            GLib.source_remove(timer[0])
        window.destroy()
    outcome = job.outcome
    if isinstance(outcome, ReverieError):
        raise outcome
    if not isinstance(outcome, Result):
        raise DreamStopped("the dream server cancelled the dream")
    check_layout(outcome, pixels)
    return outcome
