"""Dream parameters: one immutable, validated object shared by the engine, the server and the command line."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reverie.engine.registry import get_spec
from reverie_wire.errors import BadRequest
from reverie_wire.ranges import RANGES

NORMALIZATIONS = ("mean_abs", "std", "laplacian")
# "auto" picks bfloat16 only where it was measured faster and visually equivalent (reverie.engine.precision).
PRECISIONS = ("auto", "float32", "bfloat16")
# Layer weights are kept to this many significant digits: finer differences are invisible in a dream, and each
# distinct objective costs a compile.
WEIGHT_DIGITS = 3


def _shown(value: float) -> str:
    """A number for an error message; a whole number of any size is never turned into a float (it may not fit)."""
    if isinstance(value, int) and abs(value) >= 10**15:
        return f"a number of {len(str(abs(value)))} digits"
    return f"{value:g}"


def _check_range(name: str, value: float) -> None:
    low, high = RANGES[name]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BadRequest(f"{name} must be a finite number, got {value!r}")
    if isinstance(value, float) and not math.isfinite(value):
        raise BadRequest(f"{name} must be a finite number, got {value!r}")
    if not low <= value <= high:  # Python compares ints and floats exactly, without converting
        raise BadRequest(f"{name} must be between {low:g} and {high:g}, got {_shown(value)}")


def _significant(weight: float) -> float:
    """A layer weight kept to WEIGHT_DIGITS significant digits, so dreams that differ below them share a compile."""
    return float(f"{weight:.{WEIGHT_DIGITS}g}")


def _check_int(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadRequest(f"{name} must be a whole number, got {value!r}")
    _check_range(name, value)


@dataclass(frozen=True)
class DreamParams:
    """Everything that shapes a dream; defaults are the Keras DeepDream example's.

    ``layers`` (``{layer: weight}``) overrides ``preset``; ``channels`` limits a layer's objective to
    some of its channels. ``keep_colors`` keeps the source's colours and takes only the dream's lightness.
    ``normalization`` "laplacian" scales each of ``lap_levels`` frequency bands of the gradient alike.
    ``seed`` None means "pick one", and the result reports the one used.
    """

    model: str = "inception_v3"
    preset: str = "keras"
    layers: tuple[tuple[str, float], ...] | None = None
    channels: tuple[tuple[str, tuple[int, ...]], ...] = ()
    octaves: int = 3
    octave_scale: float = 1.4
    steps: int = 20
    step_size: float = 0.01
    max_loss: float | None = 15.0
    jitter: int = 32
    normalization: str = "mean_abs"
    detail_reinjection: bool = True
    seed: int | None = None
    tile_size: int = 1024
    tile_overlap: int = 128
    precision: str = "auto"
    keep_colors: bool = False
    lap_levels: int = 4

    def __post_init__(self) -> None:
        if isinstance(self.layers, Mapping):
            object.__setattr__(self, "layers", tuple((str(k), v) for k, v in self.layers.items()))
        if isinstance(self.channels, Mapping):
            for layer, indices in self.channels.items():
                if not isinstance(indices, (list, tuple)):
                    raise BadRequest(f"channels for {layer} must be a list of channel numbers, got {indices!r}")
            object.__setattr__(self, "channels", tuple((str(k), tuple(v)) for k, v in self.channels.items()))
        self._validate()
        self._canonicalise()

    def _canonicalise(self) -> None:
        """One form for equal dreams: the model's own name for any alias or case, layers and channels sorted,
        channel lists without repeats, weights to WEIGHT_DIGITS digits. Equal dreams then share a compile, and a
        long list of one repeated channel costs what one channel costs."""
        object.__setattr__(self, "model", get_spec(self.model).name)
        if self.layers is not None:
            object.__setattr__(self, "layers", tuple(sorted((name, _significant(w)) for name, w in self.layers)))
        object.__setattr__(
            self, "channels", tuple(sorted((name, tuple(sorted(set(indices)))) for name, indices in self.channels))
        )

    def _validate(self) -> None:
        for name in ("model", "preset", "normalization", "precision"):
            if not isinstance(getattr(self, name), str):
                raise BadRequest(f"{name} must be a name, got {getattr(self, name)!r}")
        for name in ("octaves", "steps", "jitter", "tile_size", "tile_overlap", "lap_levels"):
            _check_int(name, getattr(self, name))
        for name in ("octave_scale", "step_size"):
            _check_range(name, getattr(self, name))
        if self.max_loss is not None:
            _check_range("max_loss", self.max_loss)
        if self.seed is not None:
            _check_int("seed", self.seed)
        if self.normalization not in NORMALIZATIONS:
            raise BadRequest(f"normalization must be one of {', '.join(NORMALIZATIONS)}, got {self.normalization!r}")
        if self.precision not in PRECISIONS:
            raise BadRequest(f"precision must be one of {', '.join(PRECISIONS)}, got {self.precision!r}")
        for name in ("detail_reinjection", "keep_colors"):
            if not isinstance(getattr(self, name), bool):
                raise BadRequest(f"{name} must be true or false")
        if self.tile_overlap * 2 >= self.tile_size:
            raise BadRequest(
                f"tile_overlap ({self.tile_overlap}) must be less than half of tile_size ({self.tile_size})"
            )
        if self.layers is not None:
            if not self.layers:
                raise BadRequest("layers must name at least one layer")
            for layer, weight in self.layers:
                _check_range("layer_weight", weight)
                if not layer:
                    raise BadRequest("a layer name is empty")
        for layer, indices in self.channels:
            if not indices or any(isinstance(i, bool) or not isinstance(i, int) or i < 0 for i in indices):
                raise BadRequest(f"channels for {layer} must be a list of channel numbers (0 or more)")

    def layer_weights(self) -> dict[str, float]:
        """The ``{layer: weight}`` this dream uses: its layers, else its model's preset (an unknown layer or
        preset is one clear error)."""
        return get_spec(self.model).resolve_layers(self.preset, None if self.layers is None else dict(self.layers))

    def replace(self, **changes: Any) -> DreamParams:
        """A copy with some fields changed, validated again."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form, as the protocol carries it."""
        data = dataclasses.asdict(self)
        data["layers"] = None if self.layers is None else dict(self.layers)
        data["channels"] = {layer: list(indices) for layer, indices in self.channels}
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DreamParams:
        """Build from the protocol's JSON; unknown keys are an error, not silently dropped."""
        if not isinstance(data, Mapping):
            raise BadRequest("params must be an object")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise BadRequest(f"unknown parameter(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        values = dict(data)
        if values.get("layers") is not None and not isinstance(values["layers"], Mapping):
            raise BadRequest("layers must be an object of {layer: weight}")
        if "channels" in values and not isinstance(values["channels"], Mapping):
            raise BadRequest("channels must be an object of {layer: [channel, ...]}")
        return cls(**values)
