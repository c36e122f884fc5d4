"""The widgets of live dreaming: the dialog's preview pane and the full run's progress window (GTK 3,
main thread only)."""

from __future__ import annotations

import json
from pathlib import Path

import gi

gi.require_version("Gtk", "3.0")
gi.require_version("GdkPixbuf", "2.0")
from gi.repository import GdkPixbuf, GLib, Gtk  # noqa: E402

# The progress window's responses.
STOP_RESPONSE = 200
DONE_RESPONSE = 201


def pixbuf(rgb: bytes, width: int, height: int) -> GdkPixbuf.Pixbuf:
    """8-bit RGB rows as a pixbuf (no alpha: the pane shows colour; alpha passes through the dream as it is)."""
    return GdkPixbuf.Pixbuf.new_from_bytes(
        GLib.Bytes.new(rgb), GdkPixbuf.Colorspace.RGB, False, 8, width, height, width * 3
    )


class PreviewPane(Gtk.Box):
    """A 1:1 view of the preview crop with a line of text under it: the source until a dream's snapshots
    replace it."""

    def __init__(self) -> None:
        super().__init__(orientation=Gtk.Orientation.VERTICAL, spacing=4)
        self.set_name("reverie-preview-pane")
        frame = Gtk.Frame()
        self.image = Gtk.Image()
        frame.add(self.image)
        self.pack_start(frame, False, False, 0)
        self.caption = Gtk.Label(label="")
        self.caption.set_xalign(0.0)
        self.pack_start(self.caption, False, False, 0)

    def show_pixels(self, rgb: bytes, width: int, height: int) -> None:
        self.image.set_from_pixbuf(pixbuf(rgb, width, height))

    def say(self, text: str) -> None:
        self.caption.set_text(text)


class ProgressWindow(Gtk.Dialog):
    """The full run's progress, with Stop (keep what has formed) and Cancel: GIMP's own progress cancel would
    end the plug-in, so the dream's own window offers both and the job always ends on the server first."""

    def __init__(self, title: str) -> None:
        super().__init__(title=title, modal=True)
        self.set_default_size(360, -1)
        self.add_button("_Cancel", Gtk.ResponseType.CANCEL)
        self.add_button("_Stop and keep", STOP_RESPONSE)
        box = self.get_content_area()
        box.set_spacing(6)
        box.set_border_width(12)
        self.bar = Gtk.ProgressBar()
        self.bar.set_show_text(True)
        box.pack_start(self.bar, False, False, 0)
        self.show_all()

    def say(self, text: str) -> None:
        self.bar.set_text(text)

    def fraction(self, value: float) -> None:
        self.bar.set_fraction(max(0.0, min(1.0, value)))

    def pulse(self) -> None:
        self.bar.pulse()


def _buttons(widget: Gtk.Widget) -> list[Gtk.Button]:
    """Every button inside ``widget``, at any depth."""
    if isinstance(widget, Gtk.Button):
        return [widget]
    if isinstance(widget, Gtk.Container):
        return [button for child in widget.get_children() for button in _buttons(child)]
    return []


def layout(dialog: Gtk.Window) -> dict:
    """Where the dialog and each of its buttons on screen lie, in screen pixels as [x, y, width, height]:
    what the e2e tests check against a small screen (GTK's own allocation, so it needs no image search)."""
    frame = dialog.get_window().get_frame_extents()
    _, left, top = dialog.get_window().get_origin()
    buttons = {}
    for button in _buttons(dialog):
        if button.get_mapped():
            x, y = button.translate_coordinates(dialog, 0, 0)
            name = button.get_label() or button.get_tooltip_text() or type(button).__name__
            buttons[name] = [left + x, top + y, button.get_allocated_width(), button.get_allocated_height()]
    return {"window": [frame.x, frame.y, frame.width, frame.height], "buttons": buttons}


def report_layout(dialog: Gtk.Window, path: str) -> None:
    """Once the dialog is on screen, write its ``layout`` to ``path`` as JSON (REVERIE_LAYOUT_REPORT: the e2e
    tests' view of what an artist's screen shows)."""

    def write() -> bool:
        Path(path).write_text(json.dumps(layout(dialog)))
        return False

    dialog.connect("map-event", lambda *_: GLib.idle_add(write) and False)
