"""Dream parameters: one immutable, validated object shared by the engine, the server and the command line."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reverie.engine.registry import get_spec
from reverie_wire import schema
from reverie_wire.errors import BadRequest

NORMALIZATIONS = schema.field("normalization").values
PRECISIONS = schema.field("precision").values
# Layer weights are kept to this many significant digits: finer differences are invisible in a dream, and each
# distinct objective costs a compile.
WEIGHT_DIGITS = 3
_DEFAULTS = schema.defaults()


def _significant(weight: float) -> float:
    """A layer weight kept to WEIGHT_DIGITS significant digits, so dreams that differ below them share a compile."""
    return float(f"{weight:.{WEIGHT_DIGITS}g}")


def _pairs(value: Any) -> Any:
    """A ``{name: value}`` given as a mapping or as pairs, as a dict for the schema's checks."""
    return dict(value) if isinstance(value, (Mapping, tuple)) else value


@dataclass(frozen=True)
class DreamParams:
    """Everything that shapes a dream; its fields, defaults and checks are ``reverie_wire.schema``'s.

    ``layers`` (``{layer: weight}``) overrides ``preset``; ``channels`` limits a layer's objective to
    some of its channels. ``keep_colors`` keeps the source's colours and takes only the dream's lightness.
    ``normalization`` "laplacian" scales each of ``lap_levels`` frequency bands of the gradient alike.
    ``seed`` None means "pick one", and the result reports the one used.
    """

    model: str = _DEFAULTS["model"]
    preset: str = _DEFAULTS["preset"]
    layers: tuple[tuple[str, float], ...] | None = None
    channels: tuple[tuple[str, tuple[int, ...]], ...] = ()
    octaves: int = _DEFAULTS["octaves"]
    octave_scale: float = _DEFAULTS["octave_scale"]
    steps: int = _DEFAULTS["steps"]
    step_size: float = _DEFAULTS["step_size"]
    max_loss: float | None = _DEFAULTS["max_loss"]
    jitter: int = _DEFAULTS["jitter"]
    normalization: str = _DEFAULTS["normalization"]
    detail_reinjection: bool = _DEFAULTS["detail_reinjection"]
    seed: int | None = _DEFAULTS["seed"]
    tile_size: int = _DEFAULTS["tile_size"]
    tile_overlap: int = _DEFAULTS["tile_overlap"]
    precision: str = _DEFAULTS["precision"]
    keep_colors: bool = _DEFAULTS["keep_colors"]
    lap_levels: int = _DEFAULTS["lap_levels"]
    pattern_size: str = _DEFAULTS["pattern_size"]
    pattern_scale: float | None = _DEFAULTS["pattern_scale"]

    def __post_init__(self) -> None:
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        layers, channels = _pairs(self.layers), _pairs(self.channels)
        schema.check_params({**values, "layers": layers, "channels": channels})
        if layers is not None:
            object.__setattr__(self, "layers", tuple((str(k), v) for k, v in layers.items()))
        object.__setattr__(self, "channels", tuple((str(k), tuple(v)) for k, v in channels.items()))
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
        schema.check_params(data)
        return cls(**data)
