"""The dialog's "Layers" field: any layers with weights, and channels, in one line of text.

``mixed3=1, mixed5=1.5`` weighs layers (a bare name weighs 1); ``mixed4:12,40`` dreams only channels 12
and 40 of mixed4 (and adds mixed4 with weight 1 if it is not named otherwise): the numbers after a
``name:`` belong to its channel list until the next name. Empty: the preset decides.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from reverie_plugin.messages import PluginFailure

EXAMPLE = "mixed3=1, mixed5=1.5, mixed4:12,40"


def parse_layers(text: str) -> tuple[dict[str, float], dict[str, list[int]]]:
    """``({layer: weight}, {layer: [channel, ...]})`` from the field; both empty for an empty field."""
    weights: dict[str, float] = {}
    channels: dict[str, list[int]] = {}
    current: list[int] | None = None
    for item in filter(None, (part.strip() for part in text.split(","))):
        if item.isdigit() and current is not None:
            current.append(int(item))
            continue
        name, colon, first = item.partition(":")
        if colon:
            name = name.strip()
            if not first.strip().isdigit():
                raise PluginFailure(f"Layers: channels are whole numbers after '{name}:', e.g. {EXAMPLE}")
            current = channels.setdefault(name, [])
            current.append(int(first))
            weights.setdefault(name, 1.0)
            continue
        current = None
        name, equals, weight = (part.strip() for part in item.partition("="))
        try:
            weights[name] = float(weight) if equals else 1.0
        except ValueError:
            raise PluginFailure(f"Layers: the weight of {name} is not a number ({weight!r}); e.g. {EXAMPLE}") from None
        if not name:
            raise PluginFailure(f"Layers: a weight without a layer name; e.g. {EXAMPLE}")
    return weights, channels


def check_layers(params: Mapping[str, Any], server: Mapping[str, Any]) -> None:
    """Refuse layers the server's model does not offer (from its ``hello``), naming the valid ones."""
    named = {*(params.get("layers") or {}), *params.get("channels", {})}
    offered: Sequence[str] = server.get("models", {}).get(params["model"], {}).get("layers", [])
    unknown = sorted(name for name in named if name not in offered)
    if unknown and offered:
        raise PluginFailure(
            f"Layers: {params['model']} has no layer {', '.join(unknown)}; valid layers: {', '.join(offered)}"
        )


def with_channel(text: str, layer: str, channel: int) -> str:
    """The field with ``layer:channel`` added at its end (as the channel browser's click adds it); unchanged when
    the field already dreams that channel."""
    try:
        _, channels = parse_layers(text)
    except PluginFailure:  # a field the artist is still typing: the channel is added all the same
        channels = {}
    if channel in channels.get(layer, []):
        return text
    kept = text.strip().rstrip(",").strip()
    return f"{kept}, {layer}:{channel}" if kept else f"{layer}:{channel}"


def browsed_layer(text: str, layers: Sequence[str], preset: Sequence[str]) -> str:
    """The layer the channel browser opens on: the field's first layer that the server's model has, else the
    preset's deepest, else the model's first."""
    try:
        weights, channels = parse_layers(text)
    except PluginFailure:
        weights, channels = {}, {}
    named = [name for name in (*weights, *channels) if name in layers]
    if named:
        return named[0]
    offered = [name for name in preset if name in layers]
    return offered[-1] if offered else layers[0]
