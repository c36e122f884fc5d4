"""The ``reverie dream`` command line that dreams what the dialog would: the artist copies it to repeat a
dream outside GIMP, or in batch (what gmic-qt#190 asks of filters).

Pure: built from the same server params the plug-in sends (``arguments.dream_params``), so the line and the
run cannot drift apart.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from typing import Any

from reverie_plugin.arguments import SERVER_MODEL


def _number(value: float) -> str:
    """A float as Python writes it back exactly (0.01, not 0.010000000000000000208)."""
    return repr(float(value))


def dream_command(
    params: Mapping[str, Any],
    endpoint: str,
    source: str,
    output: str,
    guide: str | None = None,
    strength: str | None = None,
) -> str:
    """``reverie dream SOURCE -o OUTPUT --server ENDPOINT …  --seed N`` for ``params`` (a resolved seed);
    "the server's model" leaves --model out, so the server's own is used, as in the plug-in; ``guide`` and
    ``strength`` name the files the guide layer and the strength mask are to be exported as."""
    words = ["reverie", "dream", source, "-o", output, "--server", endpoint]
    if params["model"] != SERVER_MODEL:
        words += ["--model", params["model"]]
    words += ["--preset", params["preset"]]
    if params.get("layers"):
        words += ["--layers", ",".join(f"{name}={_number(weight)}" for name, weight in params["layers"].items())]
    for name, channels in (params.get("channels") or {}).items():
        words += ["--channels", f"{name}:{','.join(str(channel) for channel in channels)}"]
    words += ["--octaves", str(params["octaves"]), "--octave-scale", _number(params["octave_scale"])]
    words += ["--steps", str(params["steps"]), "--step-size", _number(params["step_size"])]
    words += ["--jitter", str(params["jitter"]), "--normalization", params["normalization"]]
    words += ["--lap-levels", str(params["lap_levels"])]
    if params["keep_colors"]:
        words.append("--keep-colors")
    words += ["--pattern-size", params["pattern_size"]]
    if guide is not None:
        words += ["--guide", guide]
    if strength is not None:
        words += ["--strength", strength]
    words += ["--seed", str(params["seed"])]
    return shlex.join(words)
