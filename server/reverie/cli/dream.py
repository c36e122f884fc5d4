"""``reverie dream`` and ``reverie layers``: dreaming files from the command line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from reverie.cli.target import opened
from reverie.config import load_config
from reverie.engine.params import DreamParams
from reverie.engine.registry import MODELS, PRESETS, get_spec
from reverie.imaging.images import output_format, read_image, read_strength
from reverie_wire import schema
from reverie_wire.keys import client_options


def _layer_weights(text: str) -> dict[str, float]:
    """Parse ``mixed4=1,mixed5=1.5`` (a bare name weighs 1)."""
    weights = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, _, weight = item.partition("=")
        try:
            weights[name.strip()] = float(weight) if weight else 1.0
        except ValueError:
            raise argparse.ArgumentTypeError(f"layer weight {weight!r} for {name} is not a number") from None
    if not weights:
        raise argparse.ArgumentTypeError("name at least one layer, e.g. mixed4=1,mixed5=1.5")
    return weights


def _channels(text: str) -> tuple[str, tuple[int, ...]]:
    """Parse ``mixed4:12,40,97``."""
    name, _, numbers = text.partition(":")
    try:
        return name.strip(), tuple(int(n) for n in numbers.split(",") if n.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"channels must look like LAYER:1,2,3, got {text!r}") from None


def _or_none(kind: type) -> Any:
    """An option's type for a field that JSON may set to null: 'none' is None."""

    def parse(text: str) -> Any:
        return None if text.lower() == "none" else kind(text)

    parse.__name__ = kind.__name__  # argparse names the type in its error messages
    return parse


def _generated(field: schema.Field) -> dict[str, Any]:
    """``add_argument``'s keywords for a field, read from the schema."""
    if field.kind == "bool":
        action = "store_false" if field.default else "store_true"
        return {
            "action": action,
            "help": field.help + (" (default on; this option turns it off)" if field.default else ""),
        }
    kind = {"int": int, "float": float}.get(field.kind, str)
    if field.choices:
        named = "; ".join(f"{value}: {text}" for value, text in field.choices)
        return {
            "choices": field.values,
            "default": field.default,
            "help": f"{field.help}: {named} (default %(default)s)",
        }
    accepted = field.bounds() + (", or none" if field.nullable else "")
    return {
        "type": _or_none(kind) if field.nullable else kind,
        "default": field.default,
        "help": f"{field.help} ({accepted}; default %(default)s)",
    }


def _own(field: schema.Field) -> dict[str, Any]:
    """Options whose command-line form is not the schema's plain one: the model defaults to the config's,
    presets are the registry's, layers and channels have a short syntax of their own."""
    if field.name == "model":
        return {
            "help": f"model to dream with: {', '.join(MODELS)} (default: the config's [server] model, else "
            f"{field.default}; with --server, the one it serves)"
        }
    if field.name == "preset":
        return {"choices": PRESETS, "default": field.default, "help": f"{field.help} (default %(default)s)"}
    if field.name == "layers":
        return {
            "type": _layer_weights,
            "metavar": "LAYER=W,...",
            "help": "layers and their weights, e.g. mixed4=1,mixed5=1.5; overrides --preset (`reverie layers` "
            f"lists them; weights {schema.LAYER_WEIGHT[0]:g} to {schema.LAYER_WEIGHT[1]:g})",
        }
    return {
        "type": _channels,
        "action": "append",
        "default": [],
        "metavar": "LAYER:C,...",
        "help": "dream only these channels of a layer, e.g. mixed4:12,40; repeatable",
    }


OWN_OPTIONS = ("model", "preset", "layers", "channels")


def add_dream_options(parser: argparse.ArgumentParser) -> None:
    """Every dream parameter of the schema as an option, and the weights; shared by `reverie dream` and
    `reverie zoom`."""
    group = parser.add_argument_group("dream parameters")
    group.add_argument(
        "--weights",
        help="'imagenet' (downloaded once into the Keras cache), 'random' (seeded random weights, "
        "for trying things offline) or the path of an .h5 weights file (default: the config's [server] "
        "weights, else imagenet; with --server, the ones it serves)",
    )
    for field in schema.FIELDS:
        options = _own(field) if field.name in OWN_OPTIONS else _generated(field)
        group.add_argument(field.flag, dest=field.name, **options)


def params_from_args(args: argparse.Namespace, model: str) -> DreamParams:
    """The validated DreamParams the options describe, for ``model`` (the one chosen with the server)."""
    values = {field.name: getattr(args, field.name) for field in schema.FIELDS}
    return DreamParams(**{**values, "model": get_spec(model).name, "channels": dict(args.channels)})


def _run_dream(args: argparse.Namespace) -> int:
    from reverie.cli.batch import is_batch, outputs
    from reverie.cli.dreaming import dream_file, dreaming_at

    batch = is_batch(args.input, args.output)
    if batch:  # names that cannot be written fail before any work
        outputs(args.input, args.output)
    else:
        output_format(args.output)
    config = load_config()
    with opened(args, config) as target:
        params = params_from_args(args, target.model)
        if params.layers is not None:
            get_spec(params.model).resolve_layers(params.preset, dict(params.layers))
        guide = None if args.guide is None else read_image(args.guide).pixels
        strength = None if args.strength is None else read_strength(args.strength)
        if batch:
            from reverie.cli.batch import dream_files

            options = client_options(config.keys)
            return dream_files(args.input, args.output, target, params, guide, not args.quiet, options, strength)
        (source,) = args.input
        report = dream_file(source, args.output, dreaming_at(target, params, guide, strength), not args.quiet)
    for note in report.notes:
        print(f"reverie: note: {note}", file=sys.stderr)
    print(
        f"wrote {args.output} ({report.width}×{report.height}) in {report.seconds:.1f} s {target.where}; "
        f"seed {report.seed}"
    )
    return 0


# The picture size `reverie layers` gives each layer's output size at.
LAYERS_SIDE = 512


def _run_layers(args: argparse.Namespace) -> int:
    from reverie.engine.loading import load_model
    from reverie.engine.weights import RANDOM

    spec = get_spec(args.model)
    picture = None if args.input is None else read_image(args.input)  # an unreadable IN fails before any work
    print(f"{spec.name}: {spec.description}")
    # Output sizes depend on the architecture only: random weights need no download.
    extractor = load_model(spec.name, RANDOM).extractor(spec.dream_layers)
    shapes = extractor.compute_output_shape((1, LAYERS_SIDE, LAYERS_SIDE, 3))
    print(f"layers (output height × width × channels for a {LAYERS_SIDE}×{LAYERS_SIDE} picture):")
    for name, shape in zip(spec.dream_layers, shapes, strict=True):
        print(f"  {name}: {shape[1]}×{shape[2]}×{shape[3]}")
    for name, layers in spec.presets.items():
        print(f"preset {name}: " + ", ".join(f"{layer}={weight:g}" for layer, weight in layers.items()))
    if picture is not None:
        from reverie.atlas.channel_activity import describe

        model = load_model(spec.name, args.weights or load_config().weights)
        print(describe(Path(args.input).name, picture.pixels, model))
    return 0


def register(commands: Any) -> None:
    dream = commands.add_parser(
        "dream",
        help="dream image files",
        description="Dream IN and write OUT; or dream several files into a folder (-o DIR/), spread over a cluster's "
        "dreamers (reverie serve --cluster), one by one on a single server.",
    )
    dream.add_argument("input", metavar="IN", nargs="+", help="PNG, JPEG, TIFF or WebP image(s)")
    dream.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="OUT",
        help="output file (.png keeps alpha and 16-bit grey), or for several inputs a folder (each keeps its name)",
    )
    dream.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    where = dream.add_mutually_exclusive_group()
    where.add_argument(
        "--server",
        metavar="ENDPOINT",
        help="dream on the server at ENDPOINT (e.g. tcp://127.0.0.1:5555); by default a server running at the "
        "configured endpoint with the same --model and --weights is used when there is one (one serving other "
        "weights is named on stderr, and the dream runs in this process)",
    )
    where.add_argument("--local", action="store_true", help="always dream in this process, even if a server runs")
    dream.add_argument(
        "--guide",
        metavar="FILE",
        help="guide image: the dream grows this picture's motifs (the DeepDream notebook's guided objective); "
        "seen at its own size, at most 512 pixels on its long side",
    )
    dream.add_argument(
        "--strength",
        metavar="FILE",
        help="strength map: a grey image (a colour one is read as its luminance), any size: black leaves the "
        "picture as it is, white dreams at full strength; each step is scaled by it, so the dream grows where "
        "it is painted",
    )
    add_dream_options(dream)
    dream.set_defaults(func=_run_dream)

    layers = commands.add_parser(
        "layers", help="list a model's dream layers (with their output size at 512×512) and presets"
    )
    layers.add_argument("--model", default=DreamParams().model, help=f"one of: {', '.join(MODELS)}")
    layers.add_argument("input", nargs="?", metavar="IN", help="also list the channels most active on this picture")
    layers.add_argument("--weights", help="weights for IN's channels (default: the config's [server] weights)")
    layers.set_defaults(func=_run_layers)
