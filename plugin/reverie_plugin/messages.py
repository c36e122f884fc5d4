"""The words the artist reads: progress text and the message every failure ends with."""

from __future__ import annotations

import math

from reverie_wire.errors import ReverieError
from reverie_wire.time_left import time_left_text

STARTING = "Starting dream server…"
CONNECTING = "Connecting to the dream server…"
SENDING = "Sending the image to the dream server…"
PLACING = "Placing the dream…"
# The dialog's Preview button; its mnemonic differs from every argument's and the dialog's own buttons.
PREVIEW_BUTTON = "Previe_w"
# Stops the preview and keeps what has formed in the pane; Alt+S is GIMP's own "Save Settings".
STOP_BUTTON = "Stop and _keep"
# Puts the equivalent `reverie dream` line on the clipboard (every fitting mnemonic is taken).
COPY_BUTTON = "Copy as command"
# Beside the Layers field: the atlas of a layer, whose tiles add their channel to the field.
BROWSE_BUTTON = "Browse channels…"
NO_ATLAS = (
    "This dream server renders no channel atlas (a cluster's front, or an older release); "
    "`reverie atlas` renders one on the command line."
)


# The full run's progress window, until the first step reports.
DREAMING_TITLE = "Deep Dream: sending"
STOPPING = "Stopping; keeping what has formed…"
PANE_CANCELLED = "Preview cancelled."
PANE_SETTINGS_CHANGED = "Settings changed: the preview was stopped. Press Preview to dream with them."


def previewing_title(title: str) -> str:
    """The dialog's title while a preview runs (so a glance at the task bar, or a test, can tell)."""
    return f"{title} (previewing)"


def pane_idle_text(width: int, height: int) -> str:
    """Under the pane before any preview: what Preview will dream."""
    return f"Preview dreams this {width}×{height} crop at full scale; drag the picture to choose another."


def dreaming_again_text(dream: str, source: str) -> str:
    """Above the pane when the dialog opened on a dream layer: whose settings, and which layer it dreams."""
    if dream == source:  # the layer it was dreamed from is gone
        return f"Settings of '{dream}'; the layer it was dreamed from is gone, so this dreams '{dream}' itself."
    return f"Dreaming again with the settings of '{dream}', on '{source}'."


def server_differs_text(differences: list[str]) -> str:
    """After ``dreaming_again_text`` when the server is not the one that made the dream (empty when it is)."""
    if not differences:
        return ""
    return f" The server differs: {'; '.join(differences)}, so the dream may come out otherwise."


def copied_text(line: str, exports: list[str] | None = None) -> str:
    """Under the pane once "Copy as command" put ``line`` on the clipboard; ``exports``: the files it names that
    the artist exports beside the image (the guide layer, the strength mask)."""
    export = f" Export {' and '.join(exports)} beside the image first." if exports else ""
    return f"Copied to the clipboard (it dreams the whole file):{export} {line}"


def atlas_asking_text(layer: str, first: int, last: int) -> str:
    """In the channel browser while the server renders a sheet."""
    return f"Asking the dream server what channels {first}–{last} of {layer} dream of…"


def atlas_progress_text(fraction: float) -> str:
    return f"Rendering the channels: {fraction:.0%}"


def atlas_done_text(dreamed: int, count: int, seconds: float) -> str:
    """Under a sheet once it shows."""
    cached = count - dreamed
    source = f"{dreamed} rendered now, {cached} from the server's cache" if cached else f"{dreamed} rendered"
    return f"{count} channels ({source}, {seconds:.1f} s). Click a channel to add it to Layers."


def atlas_added_text(layer: str, channel: int, text: str) -> str:
    """Under the sheet after a click: what the Layers field now holds."""
    return f"Added {layer}:{channel}. Layers: {text}"


def pane_done_text(seed: int, whole: bool) -> str:
    """Under the pane when a preview is done."""
    tail = " It is the whole region: OK keeps it without dreaming again." if whole else ""
    return f"Preview done (seed {seed}).{tail}"


def pane_stopped_text(partial: dict) -> str:
    """Under the pane when a preview was stopped and kept."""
    octave, octaves = partial.get("octave", 0), partial.get("octaves", 0)
    return f"Stopped at octave {octave}/{octaves}, step {partial.get('step', 0)}/{partial.get('steps', 0)}."


class DreamStopped(Exception):
    """The artist cancelled a running dream; the image is left as it was."""


class PluginFailure(ReverieError):
    """A failure the plug-in itself detects; its message says what to do."""

    code = "plugin"


def progress_text(
    octave: int, octaves: int, step: int, steps: int, preview: bool, seconds_left: float | None = None
) -> str:
    """Progress bar text for one engine step (octave and step counted from 1), with the server's estimate of
    the time left when it sent one."""
    what = "Previewing" if preview else "Dreaming"
    left = time_left_text(seconds_left)
    return f"{what}: octave {octave}/{octaves}, step {step}/{steps}" + (f" ({left})" if left else "")


def queued_text(ahead: int) -> str:
    """Progress bar text while the job waits on the server behind others' (or this artist's earlier) jobs."""
    return f"Waiting for the dream server: {ahead} job{'' if ahead == 1 else 's'} ahead of this one…"


def busy_text(seconds: float) -> str:
    """Progress bar text while the dream server, its queue full, has turned the job away for now: it is sent again."""
    return f"The dream server is busy; sending the dream again in {math.ceil(seconds)} s…"


def no_pyzmq_text(error: ImportError, python: str) -> str:
    """GIMP's Python cannot import pyzmq (missing, or built for another Python), so no dream can be sent."""
    return (
        f"GIMP's Python {python} cannot use pyzmq ({error}), which Deep Dream needs to talk to the dream "
        "server. Run 'python3 install/install.py --plugin-only' from the Reverie folder (it puts a matching "
        "pyzmq beside the plug-in), or install pyzmq for GIMP's Python (e.g. python3-zmq), then restart GIMP"
    )


def failure_text(error: BaseException) -> str:
    """What the error dialog says: Reverie's own errors already say what to do; anything else is a bug."""
    if isinstance(error, ReverieError):
        return f"Deep Dream: {error}"
    return (
        f"Deep Dream stopped on an unexpected {type(error).__name__}: {error}. The image is unchanged. "
        "Please report this with the text of GIMP's error console."
    )


def no_server_text(endpoint: str, local: bool) -> str:
    """Why no dream happened when nothing answers and the plug-in may not or cannot start a server."""
    if local:
        return (
            f"no dream server answers at {endpoint} and the 'reverie' command was not found. Install it "
            "with 'python3 install/install.py' from the Reverie folder, or start a server with "
            "'reverie start' and try again"
        )
    return (
        f"no dream server answers at {endpoint}. Start one on that machine with 'reverie start --endpoint "
        "…', or correct the Endpoint setting"
    )


def selection_misses_text() -> str:
    """The selection and the active layer do not overlap."""
    return "the selection does not touch the active layer; select part of the layer or choose another layer"


def one_drawable_text(count: int) -> str:
    """Deep Dream works on exactly one layer."""
    return f"select exactly one layer to dream on ({count} are selected)"


def not_a_layer_text() -> str:
    """Deep Dream adds a layer above a layer; a channel or a layer mask has no place for it."""
    return "choose a layer to dream on, not a channel or a layer mask (click the layer's thumbnail)"


def unauthorized_text(detail: str) -> str:
    """The server wants CURVE keys the plug-in does not have (or has wrong)."""
    return (
        f"{detail}. For GIMP, name the server's public key (server_public) and your .key_secret file "
        "(client_secret) in the [keys] table of Reverie's config.toml; 'reverie keys' on the server makes them"
    )
