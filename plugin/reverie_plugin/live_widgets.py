"""The widgets of live dreaming: the dialog's preview pane and the full run's progress window (GTK 3,
main thread only)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import gi

gi.require_version("Gtk", "3.0")
gi.require_version("Gdk", "3.0")
gi.require_version("GdkPixbuf", "2.0")
gi.require_version("Pango", "1.0")
from gi.repository import Gdk, GdkPixbuf, GLib, Gtk, Pango  # noqa: E402

from reverie_plugin import pane_view  # noqa: E402
from reverie_plugin.geometry import Rect  # noqa: E402

# The pane's smallest side, its background (RGBA) and the line around the crop.
MIN_SIDE = 256
BACKGROUND = 0x303030FF
FRAME = 0xFFFFFFFF
# The progress window's picture of the dream forming: its long side at most.
WINDOW_SIDE = 320
# The progress window's responses.
STOP_RESPONSE = 200
DONE_RESPONSE = 201


def pixbuf(rgb: bytes, width: int, height: int) -> GdkPixbuf.Pixbuf:
    """8-bit RGB rows as a pixbuf (no alpha: the pane shows colour; alpha passes through the dream as it is)."""
    return GdkPixbuf.Pixbuf.new_from_bytes(
        GLib.Bytes.new(rgb), GdkPixbuf.Colorspace.RGB, False, 8, width, height, width * 3
    )


class PreviewPane(Gtk.Box):
    """The region the full run dreams, with the preview's crop framed in it, at 1:1 (the crop centred) or
    fitted to the pane; the dream's snapshots over the crop; a line of text under it. Dragging the picture
    chooses which crop the next preview dreams (``on_crop_moved`` hears of it). Built from pixbufs alone:
    PyGObject draws with cairo only where pycairo is installed, and GIMP's Python may lack it."""

    def __init__(self, on_crop_moved: Callable[[Rect], None]) -> None:
        super().__init__(orientation=Gtk.Orientation.VERTICAL, spacing=4)
        self.set_name("reverie-preview-pane")
        self._on_crop_moved = on_crop_moved
        self._region = self.crop = Rect(0, 0, 1, 1)
        self._source: GdkPixbuf.Pixbuf | None = None
        self._source_scale = 1.0
        self._dream: GdkPixbuf.Pixbuf | None = None
        self._drag: tuple[float, float, Rect] | None = None
        self._view = (1, 1)
        self._redraw_pending = False
        self._scrolled = Gtk.ScrolledWindow()
        # EXTERNAL: the picture's size never sets the pane's; the pane's size sets the picture's.
        self._scrolled.set_policy(Gtk.PolicyType.EXTERNAL, Gtk.PolicyType.EXTERNAL)
        self._scrolled.set_shadow_type(Gtk.ShadowType.IN)
        events = Gtk.EventBox()
        events.add_events(
            Gdk.EventMask.BUTTON_PRESS_MASK | Gdk.EventMask.BUTTON_RELEASE_MASK | Gdk.EventMask.BUTTON_MOTION_MASK
        )
        events.connect("button-press-event", self._pressed)
        events.connect("motion-notify-event", self._moved)
        events.connect("button-release-event", self._released)
        self.image = Gtk.Image()
        self.image.set_halign(Gtk.Align.START)
        self.image.set_valign(Gtk.Align.START)
        events.add(self.image)
        self._scrolled.add(events)
        self._scrolled.get_child().set_shadow_type(Gtk.ShadowType.NONE)
        self._scrolled.connect("size-allocate", self._allocated)
        self.pack_start(self._scrolled, True, True, 0)
        controls = Gtk.Box(orientation=Gtk.Orientation.HORIZONTAL, spacing=6)
        self.one_to_one = Gtk.CheckButton.new_with_mnemonic("_1:1")
        self.one_to_one.set_active(True)
        self.one_to_one.set_tooltip_text("Show the picture at full size (on), or all of it fitted to the pane (off)")
        self.before = Gtk.CheckButton.new_with_mnemonic("Be_fore")
        self.before.set_tooltip_text("Show the picture before the dream")
        for toggle in (self.one_to_one, self.before):
            toggle.connect("toggled", lambda *_: self._redraw())
            controls.pack_start(toggle, False, False, 0)
        self._notice = Gtk.Label(label="")
        self._notice.set_xalign(0.0)
        self._notice.set_line_wrap(True)
        self._notice.set_max_width_chars(60)
        self._notice.set_no_show_all(True)
        self.pack_start(self._notice, False, False, 0)
        # One line, whatever it says (the whole text in its tooltip): a caption that grew a line would shrink
        # the pane and move the picture under the artist's eyes.
        self.caption = Gtk.Label(label="")
        self.caption.set_xalign(0.0)
        self.caption.set_ellipsize(Pango.EllipsizeMode.END)
        self.caption.set_max_width_chars(50)
        controls.pack_start(self.caption, True, True, 0)
        self.pack_start(controls, False, False, 0)

    def set_source(self, region: Rect, crop: Rect, rgb: bytes, width: int, height: int) -> None:
        """The region's pixels (8-bit RGB, ``width``×``height``: the region, or smaller for a large one) and
        the crop a preview dreams; the pane asks for room to show the crop 1:1."""
        self._region, self.crop = region, crop
        self._source, self._source_scale = pixbuf(rgb, width, height), width / region.width
        self._dream = None
        self._scrolled.set_min_content_width(max(MIN_SIDE, crop.width))
        self._scrolled.set_min_content_height(max(MIN_SIDE, crop.height))
        self._redraw()

    def show_dream(self, rgb: bytes, width: int, height: int) -> None:
        """A snapshot of the crop's dream (shown over the crop, scaled to it if the server sent it smaller)."""
        self._dream = pixbuf(rgb, width, height)
        self._redraw()

    def clear_dream(self) -> None:
        self._dream = None
        self._redraw()

    def say(self, text: str) -> None:
        self.caption.set_text(text)
        self.caption.set_tooltip_text(text)

    def notice(self, text: str) -> None:
        """A standing line above the pane's controls (dreaming again, and on which server)."""
        self._notice.set_text(text)
        self._notice.set_visible(bool(text))

    # -- drawing -----------------------------------------------------------------------------------

    def _allocated(self, _widget: Gtk.Widget, allocation: Gdk.Rectangle) -> None:
        view = (max(1, allocation.width - 2), max(1, allocation.height - 2))  # within the frame's line
        if view != self._view:
            self._view = view
            if not self._redraw_pending:  # not from inside GTK's allocation: a new picture asks for a new one
                self._redraw_pending = True
                GLib.idle_add(self._redraw_now)

    def _redraw_now(self) -> bool:
        self._redraw_pending = False
        self._redraw()
        return False

    def _placement(self) -> tuple[bool, float, tuple[int, int]]:
        fitted = not self.one_to_one.get_active()
        width, height = self._view
        scale = pane_view.fit_scale(self._region, width, height) if fitted else 1.0
        return fitted, scale, pane_view.region_origin(self._region, self.crop, fitted, scale, width, height)

    def _redraw(self) -> None:
        if self._source is None:
            return
        width, height = self._view
        picture = GdkPixbuf.Pixbuf.new(GdkPixbuf.Colorspace.RGB, False, 8, width, height)
        picture.fill(BACKGROUND)
        _, scale, origin = self._placement()
        whole = pane_view.in_view(self._region, self._region, origin, scale)
        _paint(self._source, picture, whole)
        crop = pane_view.in_view(self.crop, self._region, origin, scale)
        if self._dream is not None and not self.before.get_active() and self._drag is None:
            _paint(self._dream, picture, crop)
        if self.crop != self._region:
            _frame(picture, crop)
        self.image.set_from_pixbuf(picture)

    # -- dragging ------------------------------------------------------------------------------------

    def _pressed(self, _widget: Gtk.Widget, event: Gdk.EventButton) -> bool:
        if event.button == 1:
            self._drag = (event.x, event.y, self.crop)
        return True

    def _moved(self, _widget: Gtk.Widget, event: Gdk.EventMotion) -> bool:
        if self._drag is not None:
            x, y, start = self._drag
            fitted, scale, _ = self._placement()
            self.crop = pane_view.dragged_crop(
                self._region, start, round(event.x - x), round(event.y - y), fitted, scale
            )
            self._redraw()
        return True

    def _released(self, _widget: Gtk.Widget, event: Gdk.EventButton) -> bool:
        if self._drag is not None and event.button == 1:
            start = self._drag[2]
            self._drag = None
            if self.crop != start:
                self._dream = None
                self._on_crop_moved(self.crop)
            self._redraw()
        return True


def _paint(source: GdkPixbuf.Pixbuf, picture: GdkPixbuf.Pixbuf, where: Rect) -> None:
    """``source`` scaled to ``where`` (view pixels) on ``picture``, as far as the picture reaches."""
    shown = pane_view.clipped(where, picture.get_width(), picture.get_height())
    if shown is None:
        return
    scale_x, scale_y = where.width / source.get_width(), where.height / source.get_height()
    exact = scale_x == 1.0 and scale_y == 1.0  # 1:1: the very pixels, no filtering
    source.scale(
        picture,
        shown.x,
        shown.y,
        shown.width,
        shown.height,
        where.x,
        where.y,
        scale_x,
        scale_y,
        GdkPixbuf.InterpType.NEAREST if exact else GdkPixbuf.InterpType.BILINEAR,
    )


def _frame(picture: GdkPixbuf.Pixbuf, crop: Rect) -> None:
    """A one-pixel line just outside the crop: which part the preview dreams."""
    x, y, width, height = crop.x - 1, crop.y - 1, crop.width + 2, crop.height + 2
    for line in (
        Rect(x, y, width, 1),
        Rect(x, y + height - 1, width, 1),
        Rect(x, y, 1, height),
        Rect(x + width - 1, y, 1, height),
    ):
        shown = pane_view.clipped(line, picture.get_width(), picture.get_height())
        if shown is not None:
            picture.new_subpixbuf(shown.x, shown.y, shown.width, shown.height).fill(FRAME)


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
        self.picture = Gtk.Image()
        box.pack_start(self.picture, False, False, 0)
        self.bar = Gtk.ProgressBar()
        self.bar.set_show_text(True)
        box.pack_start(self.bar, False, False, 0)
        self.show_all()
        self.picture.hide()  # until the first snapshot

    def show_dream(self, rgb: bytes, width: int, height: int) -> None:
        """A snapshot of the dream (8-bit RGB), shown at most WINDOW_SIDE on its long side."""
        scale = min(1.0, WINDOW_SIDE / max(width, height))
        shown = pixbuf(rgb, width, height)
        if scale < 1.0:
            shown = shown.scale_simple(
                max(1, round(width * scale)), max(1, round(height * scale)), GdkPixbuf.InterpType.BILINEAR
            )
        self.picture.set_from_pixbuf(shown)
        self.picture.show()

    def say(self, text: str) -> None:
        self.bar.set_text(text)

    def fraction(self, value: float) -> None:
        self.bar.set_fraction(max(0.0, min(1.0, value)))

    def pulse(self) -> None:
        self.bar.pulse()


def copy_to_clipboard(text: str) -> None:
    """Put ``text`` on the clipboard (and hand it to a clipboard manager, if one runs, to outlive the plug-in)."""
    clipboard = Gtk.Clipboard.get(Gdk.SELECTION_CLIPBOARD)
    clipboard.set_text(text, -1)
    clipboard.store()


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
