"""The dialog's "Browse channels…" window: the atlas of a layer, rendered by the dream server (an ``atlas`` job,
followed from GLib's main loop, so the window stays responsive and Close stops it); a click on a channel's tile
hands ``layer:channel`` to the dialog's Layers field (GTK 3, main thread only)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import gi

gi.require_version("Gtk", "3.0")
gi.require_version("Gdk", "3.0")
from gi.repository import Gdk, GLib, Gtk  # noqa: E402

from reverie_plugin import messages  # noqa: E402
from reverie_plugin.live_widgets import layout, pixbuf  # noqa: E402
from reverie_wire.atlas import MAX_SHEET_CHANNELS, AtlasOrder, Sheet  # noqa: E402

TITLE = "Browse channels"
# A page of channels: rendered in seconds on a laptop's CPU for a shallow layer, tens for a deep one (then cached).
PAGE = 16
TILE = 96
PUMP_MS = 40
CLOSE_WAIT = 5.0
# Fits a 1366×768 screen beside GIMP's panels.
SIZE = (740, 600)
# Where the window writes its layout once a sheet shows (the e2e tests' view of it), as REVERIE_LAYOUT_REPORT.
LAYOUT_REPORT = "REVERIE_BROWSER_REPORT"


class ChannelBrowser(Gtk.Dialog):
    """A layer, a range of channels, Show, and the sheet; ``submit(order)`` starts an atlas job and returns a
    ``live.FollowedJob``-like handle given this window as its listener; ``picked(layer, channel)`` hears each
    click on a tile."""

    def __init__(
        self,
        parent: Gtk.Window,
        layers: Sequence[str],
        layer: str,
        submit: Callable[[AtlasOrder, Any], Any],
        picked: Callable[[str, int], str],
    ) -> None:
        super().__init__(title=TITLE, transient_for=parent, modal=True)
        self.set_default_size(*SIZE)
        self._submit, self._picked = submit, picked
        self._job: Any = None
        self._timer: int | None = None
        self._sheet: Sheet | None = None
        self.add_button("_Close", Gtk.ResponseType.CLOSE)
        box = self.get_content_area()
        box.set_spacing(6)
        box.pack_start(self._controls(layers, layer), False, False, 0)
        scrolled = Gtk.ScrolledWindow()
        scrolled.set_shadow_type(Gtk.ShadowType.IN)
        self._events = Gtk.EventBox()
        self._events.set_halign(Gtk.Align.START)
        self._events.set_valign(Gtk.Align.START)
        self._picture = Gtk.Image()
        self._events.add(self._picture)
        self._events.connect("button-press-event", self._clicked)
        self._events.connect("size-allocate", lambda *_: self._report())
        scrolled.add(self._events)
        box.pack_start(scrolled, True, True, 0)
        self._status = Gtk.Label(label="", xalign=0.0)
        self._status.set_line_wrap(True)
        box.pack_start(self._status, False, False, 0)
        self.show_all()

    def _controls(self, layers: Sequence[str], layer: str) -> Gtk.Box:
        row = Gtk.Box(orientation=Gtk.Orientation.HORIZONTAL, spacing=6)
        self._layer = Gtk.ComboBoxText()
        for name in layers:
            self._layer.append(name, name)
        self._layer.set_active_id(layer)
        self._first = Gtk.SpinButton.new_with_range(0, 65535, 1)
        self._last = Gtk.SpinButton.new_with_range(0, 65535, 1)
        self._last.set_value(PAGE - 1)
        show = Gtk.Button.new_with_mnemonic("_Show")
        show.connect("clicked", lambda *_: self.show_sheet())
        for widget, text in ((self._layer, "_Layer"), (self._first, "C_hannels"), (self._last, "_to")):
            label = Gtk.Label.new_with_mnemonic(text)
            label.set_mnemonic_widget(widget)
            row.pack_start(label, False, False, 0)
            row.pack_start(widget, False, False, 0)
        row.pack_start(show, False, False, 0)
        return row

    def run_browser(self) -> None:
        """Show the chosen layer's first page, then stay until closed; the atlas job never outlives the window."""
        self.show_sheet()
        try:
            self.run()
        finally:
            self._drop_job(wait=True)
            self.destroy()

    # -- the atlas job ---------------------------------------------------------------------------

    def show_sheet(self) -> None:
        """Ask the server for the chosen channels (a job still rendering is cancelled first)."""
        self._drop_job(wait=False)
        first, last = int(self._first.get_value()), int(self._last.get_value())
        if last < first:
            first, last = last, first
        last = min(last, first + MAX_SHEET_CHANNELS - 1)
        order = AtlasOrder(self._layer.get_active_id() or "", first, last, TILE)
        self.say(messages.atlas_asking_text(order.layer, first, last))
        try:
            self._job = self._submit(order, self)
        except Exception as error:
            self.say(messages.failure_text(error))
            return
        self._timer = GLib.timeout_add(PUMP_MS, self._pump)

    def _pump(self) -> bool:
        alive = self._job is not None and self._job.pump()
        if not alive:
            self._timer = None
        return alive

    def _drop_job(self, wait: bool) -> None:
        if self._timer is not None:
            GLib.source_remove(self._timer)
            self._timer = None
        if self._job is not None and self._job.running:
            if wait:
                self._job.cancel_and_wait(CLOSE_WAIT)
            else:
                self._job.cancel()  # its Cancelled arrives later and is dropped
        self._job = None

    # -- live.Listener -----------------------------------------------------------------------------

    def queued(self, event: Any) -> None:
        self.say(messages.queued_text(event.ahead))

    def snapshot(self, event: Any) -> None:
        """An atlas sends none."""

    def progress(self, event: Any) -> None:
        self.say(messages.atlas_progress_text(event.fraction))

    def finished(self, outcome: Any) -> None:
        from reverie_wire.client import Cancelled, Result

        if isinstance(outcome, Result) and outcome.atlas is not None:
            self._sheet = outcome.atlas
            self._picture.set_from_pixbuf(pixbuf(outcome.pixels, outcome.width, outcome.height))
            self.say(messages.atlas_done_text(outcome.atlas.dreamed, len(outcome.atlas.channels), outcome.seconds))
        elif isinstance(outcome, Cancelled):
            self.say(messages.PANE_CANCELLED)
        elif isinstance(outcome, BaseException):
            self.say(messages.failure_text(outcome))

    # -- the sheet -------------------------------------------------------------------------------

    def say(self, text: str) -> None:
        self._status.set_text(text)

    def _clicked(self, _widget: Gtk.Widget, event: Gdk.EventButton) -> bool:
        sheet = self._sheet
        channel = None if sheet is None else sheet.channel_at(event.x, event.y)
        if sheet is not None and channel is not None:
            self.say(self._picked(sheet.layer, channel))
        return True

    def _report(self) -> None:
        """With REVERIE_BROWSER_REPORT set, write the window's layout, the sheet's place on screen and its cells."""
        path = os.environ.get(LAYOUT_REPORT)
        if not path or self._sheet is None or not self._events.get_mapped():
            return

        def write() -> bool:
            x, y = self._events.translate_coordinates(self, 0, 0)
            _, left, top = self.get_window().get_origin()
            sheet = self._sheet.to_dict() if self._sheet is not None else None
            facts = {**layout(self), "sheet": [left + x, top + y], "atlas": sheet}
            Path(path).write_text(json.dumps(facts))
            return False

        GLib.idle_add(write)
