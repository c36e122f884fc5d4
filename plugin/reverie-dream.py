#!/usr/bin/env python3
"""Reverie's GIMP 3 plug-in: Filters ▸ Artistic ▸ Deep Dream… sends the layer (or the selection) to the
dream server and places the dream as a new, masked layer in one undo step.

Runs in GIMP's own Python with PyGObject and pyzmq only. The ``reverie_wire`` package (protocol, client,
keys, config) and ``reverie_plugin`` (everything that does not need GIMP) sit beside this file.
"""

from __future__ import annotations

import os
import random
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import gi  # noqa: E402

gi.require_version("Gimp", "3.0")
gi.require_version("GimpUi", "3.0")
from gi.repository import Gimp, GimpUi, GLib, GObject  # noqa: E402

# Only what needs nothing but GIMP: GIMP imports this file to register the menu entry, and a failed import
# would drop it silently. pyzmq, the client and the config are loaded when a dream runs.
from reverie_plugin import (  # noqa: E402
    arguments,
    canvas,
    clip,
    dream_again,
    geometry,
    messages,
    runs,
    settings,
    zoom_frames,
)
from reverie_plugin.formats import cut  # noqa: E402
from reverie_plugin.messages import DreamStopped  # noqa: E402
from reverie_plugin.pyzmq_check import require_pyzmq  # noqa: E402
from reverie_wire.errors import ReverieError  # noqa: E402
from reverie_wire.images import Image  # noqa: E402

if TYPE_CHECKING:
    from reverie_plugin.session import ProgressSink
    from reverie_wire.client import DreamClient, Result

    # How a run waits for its job: (client, pixels, params, progress, preview, guide, strength) -> the result.
    Follow = Callable[[DreamClient, Image, dict[str, Any], ProgressSink, bool, Image | None, Image | None], Result]

PROCEDURE = "python-fu-reverie-dream"
ZOOM_PROCEDURE = "python-fu-reverie-zoom"
FRAMES_PROCEDURE = "python-fu-reverie-frames"
FLAGS = GObject.ParamFlags.READWRITE
# The dialog's extra buttons; GimpProcedureDialog.run() returns False for them, like Cancel. Not 1: that
# is the dialog's own Reset.
PREVIEW_RESPONSE = 100
STOP_RESPONSE = 101
COPY_RESPONSE = 102
# Where the dialog writes its on-screen layout once shown, when set (for the e2e tests).
LAYOUT_REPORT = "REVERIE_LAYOUT_REPORT"


class GimpProgress:
    """session.ProgressSink on GIMP's progress bar (main thread only)."""

    def text(self, text: str) -> None:
        Gimp.progress_set_text(text)

    def fraction(self, value: float) -> None:
        Gimp.progress_update(value)

    def pulse(self) -> None:
        Gimp.progress_pulse()


def follow_in_window(
    client: DreamClient,
    pixels: Image,
    params: dict[str, Any],
    progress: ProgressSink,
    preview: bool,
    guide: Image | None = None,
    strength: Image | None = None,
) -> Result:
    """An interactive run's wait: a progress window with the dream forming, Stop (keeps what has formed) and
    Cancel; GIMP's progress bar moves with it."""
    from reverie_plugin.live_dialog import dream_in_window

    return dream_in_window(client, pixels, params, guide, progress, strength)


def add_argument(procedure: Gimp.Procedure, argument: arguments.Argument, default: Any) -> None:
    """Register one declared argument with GIMP."""
    a = argument
    if a.kind == "choice":
        choice = Gimp.Choice.new()
        for index, (nick, label) in enumerate(a.choices):
            choice.add(nick, index, label, "")
        procedure.add_choice_argument(a.name, a.label, a.blurb, choice, default, FLAGS)
    elif a.kind == "int":
        procedure.add_int_argument(a.name, a.label, a.blurb, int(a.minimum), int(a.maximum), default, FLAGS)
    elif a.kind == "double":
        procedure.add_double_argument(a.name, a.label, a.blurb, a.minimum, a.maximum, default, FLAGS)
    elif a.kind == "boolean":
        procedure.add_boolean_argument(a.name, a.label, a.blurb, default, FLAGS)
    elif a.kind == "layer":
        procedure.add_layer_argument(a.name, a.label, a.blurb, True, FLAGS)
    elif a.kind == "channel":  # layer masks are channels too
        procedure.add_channel_argument(a.name, a.label, a.blurb, True, FLAGS)
    else:
        procedure.add_string_argument(a.name, a.label, a.blurb, default, FLAGS)


@dataclass(frozen=True)
class Connection:
    """A client the server has answered (a local server started if need be): its endpoint, the server's hello
    facts, and where progress goes."""

    client: DreamClient
    endpoint: str
    facts: dict[str, Any]
    progress: ProgressSink


@contextmanager
def connected(endpoint: str, config: settings.Settings, progress: ProgressSink) -> Iterator[Connection]:
    """One connection for a run's dreams (a zoom's frames share it); closed when the run ends."""
    require_pyzmq()
    from reverie_plugin import session

    client = session.open_client(endpoint, config.client.keys)
    try:
        yield Connection(client, endpoint, session.connect(client, endpoint, config.launcher, progress), progress)
    finally:
        client.close()


def read_guide(layer: Gimp.Layer | None) -> Image | None:
    """The guide layer's pixels as the client sends them; None for no guide."""
    guided = canvas.read_guide(layer)
    return None if guided is None else Image(*guided)


def fetch_dream(
    connection: Connection,
    plan: runs.Plan,
    params: dict[str, Any],
    follow: Follow | None,
    guide: Image | None,
    settings: dict[str, Any],
    strength: Gimp.Channel | None = None,
) -> tuple[Result, dict[str, Any]]:
    """Send the plan's pixels, wait for the dream (through ``follow``, e.g. a progress window with Stop, or on
    GIMP's progress bar when None); with a ``strength`` channel, its values over the plan's pixels go as the
    strength map.

    Returns the result and the details that go with the new layer (params, seed, timings).
    """
    from reverie_plugin import session

    params = arguments.with_server_model(params, connection.facts)
    if plan.preview:  # a crop, dreamed at the shrink its full run gets
        params = geometry.preview_params(params, plan.region)
    started = time.monotonic()
    data = canvas.read_pixels(plan.drawable, plan.sent, plan.wire)
    read = time.monotonic()
    pixels = Image(data, plan.sent.width, plan.sent.height, plan.wire.channels, plan.wire.dtype)
    painted = canvas.read_strength(strength, plan.drawable, plan.sent)
    strength_map = None if painted is None else Image(*painted)
    wait = follow or session.dream
    result = wait(connection.client, pixels, params, connection.progress, plan.preview, guide, strength_map)
    finished = time.monotonic()
    server = dream_again.server_record(connection.facts)
    details = canvas.layer_details(
        params, connection.endpoint, result, read - started, finished - read, settings, server
    )
    return result, details


def dream_on(
    image: Gimp.Image, drawables: list[Gimp.Drawable], values: dict[str, Any], follow: Follow | None = None
) -> tuple[int, Gimp.Layer]:
    """The whole run: work out what to send, dream, place. Returns the seed used and the new layer."""
    plan = runs.plan_run(image, drawables, bool(values["preview"]))
    config = settings.load(HERE)
    endpoint = settings.resolve_endpoint(values["endpoint"], config)
    params = arguments.dream_params(values, arguments.resolve_seed(values["seed"], random.SystemRandom()))
    with connected(endpoint, config, GimpProgress()) as connection:
        recorded = dream_again.settings_record(values, params["seed"])
        guide = read_guide(values["guide"])
        result, details = fetch_dream(connection, plan, params, follow, guide, recorded, values["strength"])
    Gimp.progress_set_text(messages.PLACING)
    return result.seed, place(image, plan, result, details)


def place(image: Gimp.Image, plan: runs.Plan, result: Result, details: dict[str, Any]) -> Gimp.Layer:
    """The dream as a new layer at the plan's place, in one undo step."""
    shown = cut(result.pixels, plan.sent, plan.shown, plan.wire)
    return canvas.place_layer(
        image, plan.drawable, plan.shown, plan.wire, shown, masked=plan.masked, preview=plan.preview, details=details
    )


def run_dialog(
    procedure: Gimp.Procedure,
    config: Gimp.ProcedureConfig,
    image: Gimp.Image,
    drawables: list[Gimp.Drawable],
    recalled: Any,
) -> tuple[bool, Any]:
    """The generated dialog with the live preview pane, Preview and Stop; (True, a preview that already is
    the full run or None) when the artist pressed OK."""
    GimpUi.init("reverie-dream")
    from reverie_plugin import dialog_layout
    from reverie_plugin.live_dialog import LiveDialog

    dialog = GimpUi.ProcedureDialog.new(procedure, config, "Deep Dream")
    dialog.add_button(messages.PREVIEW_BUTTON, PREVIEW_RESPONSE)
    dialog.add_button(messages.STOP_BUTTON, STOP_RESPONSE)
    dialog.add_button(messages.COPY_BUTTON, COPY_RESPONSE)
    # The Preview button is the dialog's one way to preview; the "preview" argument is for scripts.
    settings = dialog_layout.fill_settings(dialog, config)
    live = LiveDialog(dialog, image, drawables, config, HERE, recalled)
    dialog_layout.button_beside(dialog, "layers", messages.BROWSE_BUTTON, live.browse_channels)
    dialog_layout.side_by_side(dialog, live.pane, settings)
    if os.environ.get(LAYOUT_REPORT):
        from reverie_plugin.live_widgets import report_layout

        report_layout(dialog, os.environ[LAYOUT_REPORT])
    responses: list[int] = []
    dialog.connect("response", lambda _dialog, response: responses.append(response))
    config.connect("notify", lambda *_: live.settings_changed())
    try:
        while True:
            responses.clear()
            if dialog.run():
                return True, live.reusable()
            if responses and responses[-1] == PREVIEW_RESPONSE:
                live.preview()
            elif responses and responses[-1] == STOP_RESPONSE:
                live.stop()
            elif responses and responses[-1] == COPY_RESPONSE:
                live.copy_command()
            else:
                return False, None
    finally:
        live.close()
        dialog.destroy()


def run(
    procedure: Gimp.Procedure,
    run_mode: Gimp.RunMode,
    image: Gimp.Image,
    drawables: list[Gimp.Drawable],
    config: Gimp.ProcedureConfig,
    _data: Any,
) -> Gimp.ValueArray:
    """GIMP's entry point for one call: dialog when interactive, then the dream; never raises.

    Success shows no message: the seed is in the new layer's name and its parasite. Messages are for failures.
    """
    interactive = run_mode == Gimp.RunMode.INTERACTIVE
    reusable = None
    if interactive:
        from reverie_plugin import recall

        # Dream again: a dream layer's settings, on the layer it was dreamed from.
        recalled = recall.recall(image, drawables)
        if recalled is not None:
            recall.restore(config, recalled, image)
            drawables = drawables if recalled.source is None else [recalled.source]
        accepted, reusable = run_dialog(procedure, config, image, drawables, recalled)
        if not accepted:
            return procedure.new_return_values(Gimp.PDBStatusType.CANCEL, GLib.Error())
        config.set_property("preview", False)  # OK dreams (its Preview button previews), and so does Repeat
    values = runs.values_of(config)
    Gimp.progress_init("Deep Dream")
    try:
        if reusable is not None:  # the preview already dreamed the whole region with these settings
            plan, result, details = reusable
            seed, layer = result.seed, place(image, plan, result, details)
        else:
            seed, layer = dream_on(image, drawables, values, follow_in_window if interactive else None)
    except Exception as error:
        if isinstance(error, DreamStopped):
            return procedure.new_return_values(Gimp.PDBStatusType.CANCEL, GLib.Error())
        return failed(procedure, error)
    finally:
        Gimp.progress_end()
    return Gimp.ValueArray.new_from_values(
        [
            GObject.Value(Gimp.PDBStatusType, Gimp.PDBStatusType.SUCCESS),
            GObject.Value(GObject.TYPE_INT, seed),
            GObject.Value(Gimp.Layer, layer),
        ]
    )


def failed(procedure: Gimp.Procedure, error: Exception) -> Gimp.ValueArray:
    """A run's failure as GIMP shows it: the message saying what to do (a traceback on stderr when unexpected)."""
    if not isinstance(error, ReverieError):
        traceback.print_exc()
    return procedure.new_return_values(Gimp.PDBStatusType.EXECUTION_ERROR, GLib.Error(messages.failure_text(error)))


def zoom_on(drawables: list[Gimp.Drawable], values: dict[str, Any], show: Callable[[Gimp.Image], Any]) -> Gimp.Image:
    """Deep Dream Zoom: a new image whose layers are the frames, frame 1 the layer dreamed, each next one a
    dream of the last zoomed in, with seed + frame − 1. ``show`` gets the image once its first frame is
    there; frames done stay when a later one fails or is cancelled, and the error is raised after."""
    drawable = runs.single_layer(drawables)
    config = settings.load(HERE)
    endpoint = settings.resolve_endpoint(values["endpoint"], config)
    wire = canvas.layer_wire(drawable)
    width, height = drawable.get_width(), drawable.get_height()
    seed = arguments.resolve_seed(values["seed"], random.SystemRandom())
    with connected(endpoint, config, GimpProgress()) as connection:
        guide = read_guide(values["guide"])
        animation = zoom_frames.new_animation(width, height, wire)
        frame = None
        try:
            for index in range(1, values["frames"] + 1):
                params = arguments.frame_params(values, seed, index)
                if frame is None:
                    source, region = drawable, geometry.Rect(0, 0, width, height)
                else:
                    source, region = zoom_frames.zoomed_copy(animation, frame, values["zoom"], values["rotate"])
                plan = runs.Plan(source, region, region, region, wire, masked=False, preview=False)
                try:
                    result, _ = fetch_dream(connection, plan, params, None, guide, {})
                finally:
                    if frame is not None:
                        animation.remove_layer(source)
                frame = zoom_frames.add_frame(animation, index, result.pixels, wire)
                if index == 1:
                    show(animation)
                Gimp.displays_flush()
        finally:
            if frame is None:
                animation.delete()
    return animation


def run_animation(
    procedure: Gimp.Procedure,
    run_mode: Gimp.RunMode,
    config: Gimp.ProcedureConfig,
    title: str,
    procedure_arguments: Any,
    make: Callable[[dict[str, Any], Callable[[Gimp.Image], Any]], Gimp.Image],
) -> Gimp.ValueArray:
    """A procedure that makes a new image of frames (Zoom, Frames): its dialog when interactive, then
    ``make(values, show)`` under GIMP's progress bar; returns the new image, and never raises."""
    if run_mode == Gimp.RunMode.INTERACTIVE:
        GimpUi.init(procedure.get_name())
        dialog = GimpUi.ProcedureDialog.new(procedure, config, title)
        dialog.fill([a.name for a in procedure_arguments])
        accepted = dialog.run()
        dialog.destroy()
        if not accepted:
            return procedure.new_return_values(Gimp.PDBStatusType.CANCEL, GLib.Error())
    values = runs.values_of(config, procedure_arguments)
    Gimp.progress_init(title)
    try:
        show = Gimp.Display.new if run_mode == Gimp.RunMode.INTERACTIVE else (lambda _animation: None)
        animation = make(values, show)
    except Exception as error:
        return failed(procedure, error)
    finally:
        Gimp.progress_end()
    return Gimp.ValueArray.new_from_values(
        [
            GObject.Value(Gimp.PDBStatusType, Gimp.PDBStatusType.SUCCESS),
            GObject.Value(Gimp.Image, animation),
        ]
    )


def run_zoom(
    procedure: Gimp.Procedure,
    run_mode: Gimp.RunMode,
    _image: Gimp.Image,
    drawables: list[Gimp.Drawable],
    config: Gimp.ProcedureConfig,
    _data: Any,
) -> Gimp.ValueArray:
    """GIMP's entry point for Deep Dream Zoom."""
    return run_animation(
        procedure,
        run_mode,
        config,
        "Deep Dream Zoom",
        arguments.ZOOM_PROCEDURE_ARGUMENTS,
        lambda values, show: zoom_on(drawables, values, show),
    )


def frames_on(image: Gimp.Image, values: dict[str, Any], show: Callable[[Gimp.Image], Any]) -> Gimp.Image:
    """Deep Dream Frames: a new image whose layers are the image's layers (its frames, the bottom one first)
    dreamed, each after the first sent with the frame before it and its dream, so the server starts it from that
    dream carried along the motion. One seed for every frame; the new image has no undo history. ``show`` gets
    it once its first frame is there; frames done stay when a later one fails or is cancelled."""
    from reverie_plugin import session

    layers = clip.frame_order(image.get_layers())
    config = settings.load(HERE)
    endpoint = settings.resolve_endpoint(values["endpoint"], config)
    width, height = image.get_width(), image.get_height()
    seed = arguments.resolve_seed(values["seed"], random.SystemRandom())
    with connected(endpoint, config, GimpProgress()) as connection:
        guide = read_guide(values["guide"])
        animation = zoom_frames.new_animation(width, height, canvas.layer_wire(layers[0]))
        animation.undo_disable()
        previous = None
        try:
            for index, layer in enumerate(layers, start=1):
                wire = canvas.layer_wire(layer)
                _, x, y = layer.get_offsets()  # each frame is read over the whole image
                data = canvas.read_pixels(layer, geometry.Rect(-x, -y, width, height), wire)
                pixels = Image(data, width, height, wire.channels, wire.dtype)
                params = arguments.with_server_model(arguments.clip_params(values, seed, index), connection.facts)
                sink = clip.FrameProgress(connection.progress, index, len(layers))
                result = session.dream(connection.client, pixels, params, sink, False, guide, previous=previous)
                zoom_frames.add_frame(animation, index, result.pixels, wire, clip.frame_ms(layer.get_name()))
                previous = (pixels, Image(result.pixels, width, height, wire.channels, wire.dtype))
                if index == 1:
                    show(animation)
                Gimp.displays_flush()
        finally:
            if previous is None:
                animation.delete()
            else:
                animation.undo_enable()
    return animation


def run_frames(
    procedure: Gimp.Procedure,
    run_mode: Gimp.RunMode,
    image: Gimp.Image,
    _drawables: list[Gimp.Drawable],
    config: Gimp.ProcedureConfig,
    _data: Any,
) -> Gimp.ValueArray:
    """GIMP's entry point for Deep Dream Frames."""
    return run_animation(
        procedure,
        run_mode,
        config,
        "Deep Dream Frames",
        arguments.FRAMES_PROCEDURE_ARGUMENTS,
        lambda values, show: frames_on(image, values, show),
    )


def new_procedure(
    plugin: Gimp.PlugIn,
    name: str,
    run_function: Callable[..., Gimp.ValueArray],
    label: str,
    documentation: tuple[str, str],
    declared: tuple[arguments.Argument, ...],
) -> Gimp.Procedure:
    """A procedure on a drawable of any image type under Filters ▸ Artistic: its menu label, documentation
    (blurb, help) and declared arguments."""
    procedure = Gimp.ImageProcedure.new(plugin, name, Gimp.PDBProcType.PLUGIN, run_function, None)
    procedure.set_image_types("*")
    procedure.set_sensitivity_mask(Gimp.ProcedureSensitivityMask.DRAWABLE)
    procedure.set_menu_label(label)
    procedure.add_menu_path("<Image>/Filters/Artistic")
    procedure.set_documentation(*documentation, name)
    procedure.set_attribution("Reverie", "Reverie contributors", "2026")
    for argument in declared:
        add_argument(procedure, argument, argument.default)
    return procedure


def create_zoom_procedure(plugin: Gimp.PlugIn, name: str) -> Gimp.Procedure:
    """Filters ▸ Artistic ▸ Deep Dream Zoom…: the dream's arguments and the zoom's, returning the new image."""
    documentation = (
        "An infinite-zoom animation of Deep Dreams, as a new image of frames",
        "Dreams the layer, then again and again, each frame a dream of the last one zoomed (and turned) about its "
        "centre, with seed + frame − 1, into a new image whose layers 'Frame N (100ms)' Filters ▸ Animation ▸ "
        "Playback plays and File ▸ Export as GIF or WebP saves as an animation. Frames done stay when a later "
        "one fails or is cancelled.",
    )
    procedure = new_procedure(
        plugin, name, run_zoom, "Deep Dream _Zoom…", documentation, arguments.ZOOM_PROCEDURE_ARGUMENTS
    )
    procedure.add_image_return_value("animation", "Animation", "The new image of frames", False, FLAGS)
    return procedure


def create_frames_procedure(plugin: Gimp.PlugIn, name: str) -> Gimp.Procedure:
    """Filters ▸ Artistic ▸ Deep Dream Frames…: the dream's arguments and the frames', returning the new image."""
    documentation = (
        "Deep Dream an animation without flicker, into a new image of frames",
        "Dreams every layer of the image as a frame of an animation (the bottom layer first, as GIMP opens a GIF "
        "or WebP), into a new image whose layers 'Frame N (Tms)' keep each frame's timing. Each frame after the "
        "first starts from the previous frame's dream, moved along the optical flow between the two frames where "
        "the flow is reliable, and dreams only a little more, so the patterns follow the picture instead of "
        "flickering. One seed for every frame. Frames done stay when a later one fails or is cancelled.",
    )
    procedure = new_procedure(
        plugin, name, run_frames, "Deep Dream _Frames…", documentation, arguments.FRAMES_PROCEDURE_ARGUMENTS
    )
    procedure.add_image_return_value("animation", "Animation", "The new image of dreamed frames", False, FLAGS)
    return procedure


class ReverieDream(Gimp.PlugIn):
    """Registers python-fu-reverie-dream, python-fu-reverie-zoom and python-fu-reverie-frames."""

    def do_query_procedures(self) -> list[str]:
        """The procedures GIMP registers from this file."""
        return [PROCEDURE, ZOOM_PROCEDURE, FRAMES_PROCEDURE]

    def do_set_i18n(self, _name: str) -> bool:
        """No translations yet: English labels, no catalog lookups."""
        return False

    def do_create_procedure(self, name: str) -> Gimp.Procedure:
        """The procedure with its menu entry, documentation, arguments and return values."""
        if name == ZOOM_PROCEDURE:
            return create_zoom_procedure(self, name)
        if name == FRAMES_PROCEDURE:
            return create_frames_procedure(self, name)
        documentation = (
            "Dream on the layer or the selection with the Reverie server",
            "Sends the active layer (or the selection plus a margin) to the Reverie dream server and adds "
            "the dream as a new layer 'Deep Dream #<seed>' above it, masked by the selection, in one undo "
            "step; the layer's 'reverie-dream' parasite holds the settings and seed as JSON. 8-bit images "
            "travel as 8-bit, deeper ones as float; grey stays grey; on INDEXED images the dream is mapped "
            "to the image's palette. 'Preview only' dreams a crop of at most 512×512 (centred on the "
            "selection, or the layer) exactly as the full run would, into one 'Deep Dream preview #<seed>' "
            "layer that the next preview replaces and the full run removes. Starts a local server with "
            "'reverie start' when none answers.",
        )
        procedure = new_procedure(self, name, run, "Deep _Dream…", documentation, arguments.ARGUMENTS)
        procedure.add_int_return_value("seed", "Seed", "The seed the dream used", 0, arguments.MAX_SEED, 0, FLAGS)
        procedure.add_layer_return_value("layer", "Layer", "The new dream layer", False, FLAGS)
        return procedure


Gimp.main(ReverieDream.__gtype__, sys.argv)
