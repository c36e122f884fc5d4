"""The procedure's arguments, declared once: GIMP registers them and builds its dialog from them.

Every dream setting is a procedure argument, so the generated dialog, batch calls and "repeat last"
all see the same values. The dream parameters' arguments come from ``reverie_wire.schema`` (names, labels,
ranges, defaults); ``dream_params`` turns the values into the server's params dict.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reverie_plugin.layer_field import EXAMPLE, check_layers, parse_layers
from reverie_plugin.messages import PluginFailure
from reverie_wire import schema
from reverie_wire.ranges import ZOOM_RANGES

# Seeds travel through GIMP as a signed 32-bit int (a part of the server's range); 0 asks for a random one.
MAX_SEED = 2**31 - 1
# Mnemonics GimpProcedureDialog's own buttons use (_OK, _Cancel, _Reset, _Help, _Load Saved Settings,
# _Save Settings); GIMP 3.0 warns about any label that repeats one.
DIALOG_BUTTON_MNEMONICS = frozenset("ocrhls")


@dataclass(frozen=True)
class Argument:
    """One procedure argument: ``kind`` is "choice", "int", "double", "boolean", "string" or "layer" (any
    layer of any open image, or none)."""

    name: str
    kind: str
    label: str
    blurb: str
    default: Any
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[tuple[str, str], ...] = ()

    @property
    def mnemonic(self) -> str:
        """The letter after the underscore in the label, lower-cased."""
        index = self.label.index("_")
        return self.label[index + 1].lower()


# A server keeps one model loaded; "server" dreams with whichever that is (hello says which).
SERVER_MODEL = "server"
MODELS = (
    (SERVER_MODEL, "The server's model"),
    ("inception_v3", "InceptionV3 (classic DeepDream)"),
    ("mobilenet", "MobileNet (small, fast)"),
)
PRESETS = (
    ("keras", "Keras example (mixed4 to mixed7)"),
    ("tutorial", "TensorFlow tutorial (mixed3, mixed5)"),
    ("shallow", "Shallow: strokes and textures"),
    ("deep", "Deep: eyes, animals, buildings"),
)
KINDS = {"int": "int", "float": "double", "bool": "boolean", "str": "choice"}


def argument_name(field: schema.Field) -> str:
    """A dream parameter's procedure argument name (GIMP wants dashes)."""
    return field.name.replace("_", "-")


def _own(field: schema.Field) -> Argument:
    """Where the dialog differs from the schema: the model and preset lists are the plug-in's (with "the
    server's model"), one text field holds layers and channels, a seed of 0 asks for a random one (GIMP's int is
    signed 32-bit), and GIMP's spin scale needs the step size's range to start at 0 (0 is refused in
    dream_params)."""
    if field.name == "model":
        return Argument("model", "choice", field.label, "The network that dreams", SERVER_MODEL, choices=MODELS)
    if field.name == "preset":
        return Argument(
            "preset",
            "choice",
            field.label,
            "Which of the model's layers the dream amplifies",
            field.default,
            choices=PRESETS,
        )
    if field.name == "layers":
        blurb = f"Any layers of the model with weights, and channels, e.g. {EXAMPLE}; empty: the preset's"
        return Argument("layers", "string", field.label, blurb, "")
    if field.name == "seed":
        return Argument(
            "seed", "int", field.label, "Random seed; 0 picks one, and the seed used is reported", 0, 0, MAX_SEED
        )
    return Argument(
        argument_name(field), "double", field.label, f"{field.help} (above 0)", field.default, 0.0, field.high
    )


OWN_ARGUMENTS = ("model", "preset", "layers", "seed", "step_size")


def dialog_fields() -> tuple[schema.Field, ...]:
    """The dream parameters the dialog offers: those with a label."""
    return tuple(field for field in schema.FIELDS if field.label)


def dream_arguments() -> tuple[Argument, ...]:
    """The dream parameters' procedure arguments, in the schema's order."""
    return tuple(
        _own(field)
        if field.name in OWN_ARGUMENTS
        else Argument(
            argument_name(field),
            KINDS[field.kind],
            field.label,
            field.help,
            field.default,
            field.low,
            field.high,
            field.choices,
        )
        for field in dialog_fields()
    )


ARGUMENTS: tuple[Argument, ...] = (
    *dream_arguments(),
    Argument(
        "guide",
        "layer",
        "_Guide layer",
        "A layer of any open image whose motifs the dream grows; none: an unguided dream",
        None,
    ),
    Argument(
        "strength",
        "channel",
        "Strength mask (_0 = no dream)",
        "A channel or layer mask painted where the dream grows: white at full strength, black not at all; "
        "none: the same strength everywhere",
        None,
    ),
    Argument(
        "preview",
        "boolean",
        "Pre_view only",
        "Dream only a crop of at most 512×512, as the full run would, into the 'Deep Dream preview' layer",
        False,
    ),
    Argument(
        "endpoint",
        "string",
        "E_ndpoint",
        "The dream server's ZeroMQ endpoint; empty: the configured one",
        "",
    ),
)


def frame_steps(default: int) -> Argument:
    """Steps per octave of every frame after the first, for Zoom and Frames (each with its own default)."""
    return Argument(
        "frame-steps",
        "int",
        "Steps after frame _1",
        "Steps per octave of every frame after the first",
        default,
        schema.field("steps").low,
        schema.field("steps").high,
    )


# Deep Dream Zoom takes the dream's arguments (but "preview" and "strength") and these.
ZOOM_ARGUMENTS: tuple[Argument, ...] = (
    Argument("frames", "int", "Frames to ma_ke", "How many frames the animation has", 30, 1, 1000),
    Argument("zoom", "double", "Zoom _factor", "Enlargement from one frame to the next", 1.05, *ZOOM_RANGES["zoom"]),
    Argument(
        "rotate",
        "double",
        "T_wist (degrees)",
        "Anticlockwise turn from one frame to the next",
        0.0,
        *ZOOM_RANGES["rotate"],
    ),
    frame_steps(5),
)
ZOOM_PROCEDURE_ARGUMENTS = tuple(a for a in ARGUMENTS if a.name not in ("preview", "strength")) + ZOOM_ARGUMENTS


# Deep Dream Frames takes the dream's arguments (but "preview" and "strength") and these: a frame after the first
# starts from the one before's dream, so a touch of dreaming keeps it steady (as reverie frames' defaults).
FRAMES_ARGUMENTS: tuple[Argument, ...] = (
    frame_steps(2),
    Argument(
        "frame-octaves",
        "int",
        "Octaves after _frame 1",
        "Octaves of every frame after the first (1: the full size only)",
        1,
        schema.field("octaves").low,
        schema.field("octaves").high,
    ),
)
FRAMES_PROCEDURE_ARGUMENTS = ZOOM_PROCEDURE_ARGUMENTS[: -len(ZOOM_ARGUMENTS)] + FRAMES_ARGUMENTS


def clip_params(values: Mapping[str, Any], seed: int, index: int) -> dict[str, Any]:
    """The server's params for frame ``index`` (from 1) of Deep Dream Frames: one seed for every frame, and after
    the first the frames' own steps and octaves."""
    later = {} if index == 1 else {"steps": values["frame-steps"], "octaves": values["frame-octaves"]}
    return dream_params({**values, **later}, seed)


def frame_params(values: Mapping[str, Any], seed: int, index: int) -> dict[str, Any]:
    """The server's params for frame ``index`` (from 1) of a zoom: seed + index − 1, and after the first
    frame the zoom's own steps."""
    steps = values["steps"] if index == 1 else values["frame-steps"]
    return dream_params({**values, "steps": steps}, seed + index - 1)


def resolve_seed(seed: int, rng: random.Random) -> int:
    """The seed a run uses: the artist's, or for 0 a random one that the seed argument can hold."""
    return seed if seed else rng.randint(1, MAX_SEED)


def dream_params(values: Mapping[str, Any], seed: int) -> dict[str, Any]:
    """The server's params dict from the procedure's values; ``seed`` is the resolved (non-zero) seed."""
    if values["step-size"] <= 0:
        raise PluginFailure("Step size must be above 0: a step of 0 changes nothing; try 0.01")
    layers, channels = parse_layers(values["layers"] or "")  # GIMP gives None for an empty string
    converters = {"int": int, "float": float, "bool": bool, "str": str}
    params = {
        field.name: converters[field.kind](values[argument_name(field)])
        for field in dialog_fields()
        if field.name not in ("layers", "seed")
    }
    return {**params, "layers": layers or None, "channels": channels, "seed": seed}


def with_server_model(params: dict[str, Any], server: Mapping[str, Any]) -> dict[str, Any]:
    """``params`` with the "server" model replaced by the model the server (its hello facts) has loaded; layers
    that model does not offer are refused here, with the valid ones named."""
    resolved = params if params["model"] != SERVER_MODEL else {**params, "model": server["model"]}
    check_layers(resolved, server)
    return resolved
