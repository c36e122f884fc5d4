"""The Deep Dream dialog's settings, grouped as an artist reads them, beside the preview pane (GTK 3 via
GimpUi.ProcedureDialog, main thread only).

What it dreams of (model, preset or layers, guide), how (octaves … keep colours), and Advanced, collapsed
(seed, endpoint): a dialog that fits a 1366×768 laptop screen with its buttons.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gi

gi.require_version("Gimp", "3.0")
gi.require_version("GimpUi", "3.0")
gi.require_version("Gtk", "3.0")
from gi.repository import Gimp, GObject, Gtk  # noqa: E402

# (container id, title, the arguments in it); the last group is an expander, collapsed.
GROUPS = (
    ("reverie-what", "What it dreams of", ("model", "preset", "layers", "guide", "strength")),
    (
        "reverie-how",
        "How it dreams",
        ("octaves", "octave-scale", "steps", "step-size", "jitter", "normalization", "lap-levels", "keep-colors"),
    ),
    ("reverie-advanced", "Advanced", ("seed", "endpoint")),
)
# Free-text arguments: one-line entries (GIMP's default for a string is a multi-line text view).
ONE_LINE = ("layers", "endpoint")
SETTINGS = "reverie-settings"
# The Laplacian's bands mean nothing with another normalisation.
LAPLACIAN = "laplacian"


def fill_settings(dialog: Any, config: Gimp.ProcedureConfig) -> Gtk.Widget:
    """Build the grouped settings in ``dialog`` (a GimpUi.ProcedureDialog) and return their column, not yet
    packed anywhere."""
    entries = {name: dialog.get_widget(name, Gtk.Entry.__gtype__) for name in ONE_LINE}
    containers = []
    for index, (container, title, names) in enumerate(GROUPS):
        box = dialog.fill_box(f"{container}-box", list(names))
        for name in set(names) & set(entries):
            _label_in_place(box, entries[name], config.find_property(name).get_nick())
        dialog.get_label(f"{container}-title", title, False, False)
        last = index == len(GROUPS) - 1
        fill = dialog.fill_expander if last else dialog.fill_frame
        fill(container, f"{container}-title", False, f"{container}-box")
        containers.append(container)
    laplacian = Gimp.ValueArray.new_from_values([GObject.Value(GObject.TYPE_STRING, LAPLACIAN)])
    dialog.set_sensitive_if_in("lap-levels", None, "normalization", laplacian, True)
    return dialog.fill_box(SETTINGS, containers)


def _label_in_place(box: Gtk.Box, entry: Gtk.Entry, text: str) -> None:
    """Give ``entry`` (a bare one-line entry in ``box``) its label on its left, where it stands."""
    position = box.get_children().index(entry)
    box.remove(entry)
    row = Gtk.Box(orientation=Gtk.Orientation.HORIZONTAL, spacing=6)
    label = Gtk.Label.new_with_mnemonic(text)
    label.set_xalign(0.0)
    label.set_mnemonic_widget(entry)
    entry.set_hexpand(True)
    row.pack_start(label, False, False, 0)
    row.pack_start(entry, True, True, 0)
    box.pack_start(row, False, False, 0)
    box.reorder_child(row, position)
    row.show_all()


def button_beside(dialog: Any, name: str, label: str, clicked: Callable[[], None]) -> Gtk.Button:
    """A button at the end of the one-line entry ``name``'s row (``fill_settings`` made it), e.g. "Browse
    channels…" beside Layers."""
    button = Gtk.Button.new_with_label(label)
    button.connect("clicked", lambda *_: clicked())
    dialog.get_widget(name, Gtk.Entry.__gtype__).get_parent().pack_start(button, False, False, 0)
    button.show()
    return button


def side_by_side(dialog: Any, pane: Gtk.Widget, settings: Gtk.Widget) -> None:
    """The pane (growing with the dialog) on the left, the settings column on the right: the dialog fills
    its content with the settings (as it does every procedure's), and they move into one row with the pane."""
    dialog.fill([SETTINGS])
    holder = settings.get_parent()
    holder.remove(settings)
    row = Gtk.Box(orientation=Gtk.Orientation.HORIZONTAL, spacing=12)
    row.pack_start(pane, True, True, 0)
    row.pack_start(settings, False, False, 0)
    holder.pack_start(row, True, True, 0)
    row.show_all()
