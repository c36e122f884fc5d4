"""The dream parameters, declared once: every surface derives from this table.

The engine's ``DreamParams`` takes its defaults and checks from it, the protocol validates a dream's ``params``
with it, ``reverie dream`` makes its options from it, the GIMP plug-in its procedure arguments and dialog labels,
and PROTOCOL.md's parameter table is rendered from it. Standard library only (GIMP's Python imports it).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reverie_wire.errors import BadRequest
from reverie_wire.pattern import MIN_SCALE, PATTERN_SIZES
from reverie_wire.ranges import MAX_SEED

# A layer's weight in the objective.
LAYER_WEIGHT = (-1e3, 1e3)
# What a field's ``kind`` says a JSON value is.
JSON_TYPES = {
    "int": "number",
    "float": "number",
    "bool": "boolean",
    "str": "string",
    "weights": "object {layer: number}",
    "channels": "object {layer: [integer, …]}",
}


@dataclass(frozen=True)
class Field:
    """One dream parameter as JSON carries it.

    ``kind`` is "int", "float", "bool", "str" (a name; one of ``choices`` when they are given), "weights"
    (``{layer: weight}``) or "channels" (``{layer: [channel, ...]}``). ``nullable`` lets JSON null through
    (its meaning is in ``help``). ``label`` is the plug-in dialog's, with its mnemonic; empty keeps the field
    out of the dialog. ``option`` is the command line's option when it is not ``--name-with-dashes``.
    """

    name: str
    kind: str
    default: Any
    help: str
    label: str = ""
    low: float | None = None
    high: float | None = None
    choices: tuple[tuple[str, str], ...] = ()
    nullable: bool = False
    option: str = ""

    @property
    def flag(self) -> str:
        """The command line's option, with its dashes."""
        return "--" + (self.option or self.name.replace("_", "-"))

    @property
    def values(self) -> tuple[str, ...]:
        """The names a choice field takes."""
        return tuple(value for value, _ in self.choices)

    def bounds(self) -> str:
        """The accepted values in words: ``1 to 12``, the choices, or what an object holds."""
        if self.low is not None and self.high is not None:
            return f"{self._number(self.low)} to {self._number(self.high)}"
        if self.choices:
            return ", ".join(self.values)
        if self.kind == "weights":
            return f"at least one layer; weights {LAYER_WEIGHT[0]:g} to {LAYER_WEIGHT[1]:g}"
        if self.kind == "channels":
            return "each list non-empty, numbers from 0"
        return ""

    def _number(self, value: float) -> str:
        return str(int(value)) if self.kind == "int" else f"{value:g}"

    def check(self, value: Any) -> None:
        """Refuse a value this field does not take, with a message that names the field and why."""
        if value is None and self.nullable:
            return
        if self.kind == "int":
            if isinstance(value, bool) or not isinstance(value, int):
                raise BadRequest(f"{self.name} must be a whole number, got {value!r}")
            _check_number(self.name, value, self.low, self.high)
        elif self.kind == "float":
            _check_number(self.name, value, self.low, self.high)
        elif self.kind == "bool":
            if not isinstance(value, bool):
                raise BadRequest(f"{self.name} must be true or false")
        elif self.kind == "str":
            if not isinstance(value, str):
                raise BadRequest(f"{self.name} must be a name, got {value!r}")
            if self.choices and value not in self.values:
                raise BadRequest(f"{self.name} must be one of {', '.join(self.values)}, got {value!r}")
        elif self.kind == "weights":
            _check_weights(self.name, value)
        else:
            _check_channels(self.name, value)


def _shown(value: float) -> str:
    """A number for an error message; a whole number of any size is never turned into a float (it may not fit)."""
    if isinstance(value, int) and abs(value) >= 10**15:
        return f"a number of {len(str(abs(value)))} digits"
    return f"{value:g}"


def _check_number(name: str, value: Any, low: float | None, high: float | None) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BadRequest(f"{name} must be a finite number, got {value!r}")
    if isinstance(value, float) and not math.isfinite(value):
        raise BadRequest(f"{name} must be a finite number, got {value!r}")
    if low is not None and high is not None and not low <= value <= high:  # ints and floats compare exactly
        shown = (str(int(bound)) if float(bound).is_integer() else f"{bound:g}" for bound in (low, high))
        raise BadRequest(f"{name} must be between {' and '.join(shown)}, got {_shown(value)}")


def _check_weights(name: str, value: Any) -> None:
    if not isinstance(value, Mapping):
        raise BadRequest(f"{name} must be an object of {{layer: weight}}")
    if not value:
        raise BadRequest(f"{name} must name at least one layer")
    for layer, weight in value.items():
        if not layer:
            raise BadRequest("a layer name is empty")
        _check_number("layer_weight", weight, *LAYER_WEIGHT)


def _check_channels(name: str, value: Any) -> None:
    if not isinstance(value, Mapping):
        raise BadRequest(f"{name} must be an object of {{layer: [channel, ...]}}")
    for layer, indices in value.items():
        if not isinstance(indices, (list, tuple)):
            raise BadRequest(f"{name} for {layer} must be a list of channel numbers, got {indices!r}")
        if not indices or any(isinstance(i, bool) or not isinstance(i, int) or i < 0 for i in indices):
            raise BadRequest(f"{name} for {layer} must be a list of channel numbers (0 or more)")


NORMALIZATIONS = (
    ("mean_abs", "Mean |gradient| (Keras example)"),
    ("std", "Standard deviation (TensorFlow tutorial)"),
    ("laplacian", "Laplacian pyramid: smoother"),
)
# "auto" picks bfloat16 only where it was measured faster and visually equivalent (reverie.engine.precision).
PRECISIONS = (
    ("auto", "bfloat16 where measured faster (CPUs with AVX-512 BF16 or AMX, GPUs on JAX), else float32"),
    ("float32", "float32 everywhere"),
    ("bfloat16", "bfloat16 everywhere: faster where the hardware has it, a slightly different dream"),
)

# In the plug-in dialog's order; the defaults are the Keras DeepDream example's.
FIELDS: tuple[Field, ...] = (
    Field(
        "model",
        "str",
        "inception_v3",
        "The network that dreams: inception_v3 or mobilenet, in any case or by alias; a server dreams only "
        "with the one it has loaded",
        "_Model",
    ),
    Field(
        "preset",
        "str",
        "keras",
        "Which of the model's layers the dream amplifies when layers is not given: keras (the Keras "
        "example's), tutorial (the TensorFlow tutorial's), shallow (strokes, textures) or deep (objects)",
        "_Preset",
    ),
    Field(
        "layers",
        "weights",
        None,
        "Layers of the model and their weights, overriding preset; null: the preset's",
        "La_yers",
        nullable=True,
    ),
    Field("channels", "channels", {}, "Only these channels of a layer enter the objective; {}: all of them"),
    Field("octaves", "int", 3, "How many scales the image is dreamed at, smallest first", "Oc_taves", 1, 12),
    Field("octave_scale", "float", 1.4, "Size ratio between two octaves", "Octave sc_ale", 1.05, 4.0),
    Field("steps", "int", 20, "Gradient steps per octave", "St_eps", 1, 1000),
    Field("step_size", "float", 0.01, "How far each step moves the pixels", "Step si_ze", 1e-5, 1.0),
    Field(
        "jitter",
        "int",
        32,
        "Random shift in pixels before each step, undone after; hides tile seams",
        "_Jitter",
        0,
        512,
    ),
    Field(
        "normalization",
        "str",
        "mean_abs",
        "How each step's gradient is scaled",
        "Normalisat_ion",
        choices=NORMALIZATIONS,
    ),
    Field("lap_levels", "int", 4, "Frequency bands of the laplacian normalization", "_Bands (Laplacian)", 1, 8),
    Field(
        "keep_colors",
        "bool",
        False,
        "Keep the image's colours: the dream changes lightness only (chroma from the source, in CIELAB)",
        "Keep colo_urs",
    ),
    Field(
        "pattern_size",
        "str",
        "fine",
        "The working resolution the dream runs at; a larger picture is dreamed shrunk to it and the dream's "
        "change brought back to its size, keeping its detail",
        "Pattern size (e_xtent)",
        choices=tuple((name, text) for name, text, _ in PATTERN_SIZES),
    ),
    Field(
        "seed",
        "int",
        None,
        "Random seed; null picks one, and the result reports the one used",
        "See_d",
        0,
        MAX_SEED,
        nullable=True,
    ),
    Field(
        "max_loss",
        "float",
        15.0,
        "Stop an octave once the objective passes this; null never stops",
        low=1e-6,
        high=1e9,
        nullable=True,
    ),
    Field(
        "detail_reinjection",
        "bool",
        True,
        "Re-inject the detail lost when shrinking between octaves",
        option="no-detail",
    ),
    Field(
        "tile_size",
        "int",
        1024,
        "Largest piece sent through the model at once, bounding memory; a server brings it down to its max_tile_size",
        low=128,
        high=4096,
    ),
    Field(
        "tile_overlap",
        "int",
        128,
        "Overlap between tiles, blended so no seam shows; less than half of tile_size (on JAX, whose tiles "
        "are fixed, tiles do not overlap and the roll moves their edges instead)",
        low=0,
        high=1024,
    ),
    Field("precision", "str", "auto", "Arithmetic of the model", choices=PRECISIONS),
    Field(
        "pattern_scale",
        "float",
        None,
        "The shrink the dream runs at, overriding pattern_size: a preview sends the one its full picture gets; "
        "null: pattern_size's",
        low=MIN_SCALE,
        high=1.0,
        nullable=True,
    ),
)


def field(name: str) -> Field:
    """The field called ``name``."""
    return next(f for f in FIELDS if f.name == name)


def defaults() -> dict[str, Any]:
    """Every parameter's default, as JSON carries it."""
    return {f.name: f.default for f in FIELDS}


def check_params(params: Mapping[str, Any]) -> None:
    """Refuse unknown keys and any value its field does not take; missing keys take their defaults."""
    known = [f.name for f in FIELDS]
    unknown = sorted(set(params) - set(known))
    if unknown:
        raise BadRequest(f"unknown parameter(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    for each in FIELDS:
        if each.name in params:
            each.check(params[each.name])
    tile_size = params.get("tile_size", field("tile_size").default)
    tile_overlap = params.get("tile_overlap", field("tile_overlap").default)
    if tile_overlap * 2 >= tile_size:
        raise BadRequest(f"tile_overlap ({tile_overlap}) must be less than half of tile_size ({tile_size})")


def markdown_table() -> str:
    """PROTOCOL.md's parameter table (a unit test keeps the document equal to it)."""
    rows = [
        "| key | JSON type | integer | range | default | meaning |",
        "|---|---|---|---|---|---|",
    ]
    for each in FIELDS:
        json_type = JSON_TYPES[each.kind] + (" or null" if each.nullable else "")
        integer = {"int": "yes", "float": "no"}.get(each.kind, "—")
        meaning = each.help
        if each.choices:
            meaning += ": " + "; ".join(f"`{value}`: {text}" for value, text in each.choices)
        meaning = meaning.replace("|", "\\|")  # a bar would end the cell
        bounds = each.bounds() if not each.choices else ", ".join(f"`{value}`" for value in each.values)
        default = json.dumps(each.default)
        rows.append(f"| `{each.name}` | {json_type} | {integer} | {bounds or '—'} | `{default}` | {meaning} |")
    return "\n".join(rows) + "\n"
