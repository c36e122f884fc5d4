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
