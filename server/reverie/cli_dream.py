"""``reverie dream`` and ``reverie layers``: dreaming files from the command line."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from reverie.config import load_config
from reverie.engine.params import NORMALIZATIONS, PRECISIONS, DreamParams
from reverie.engine.registry import MODELS, PRESETS, get_spec
from reverie.images import output_format, read_image
from reverie.target import opened
from reverie_wire.keys import client_options
from reverie_wire.ranges import RANGES


def _range(name: str) -> str:
    low, high = RANGES[name]
    return f"{low:g} to {high:g}"


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


def _max_loss(text: str) -> float | None:
    return None if text.lower() == "none" else float(text)


def add_dream_options(parser: argparse.ArgumentParser) -> None:
    """Every engine parameter as an option; shared by `reverie dream` and `reverie zoom`."""
    defaults = DreamParams()
    group = parser.add_argument_group("dream parameters")
    group.add_argument(
        "--model",
        help=f"model to dream with: {', '.join(MODELS)} (default: the config's [server] model, else "
        f"{defaults.model}; with --server, the one it serves)",
    )
    group.add_argument(
        "--weights",
        help="'imagenet' (downloaded once into the Keras cache), 'random' (seeded random weights, "
        "for trying things offline) or the path of an .h5 weights file (default: the config's [server] "
        "weights, else imagenet; with --server, the ones it serves)",
    )
    group.add_argument(
        "--preset",
        default=defaults.preset,
        choices=PRESETS,
        help="layer preset: keras (the Keras example's mixed4-7), tutorial (the TensorFlow "
        "tutorial's mixed3+5), shallow (fine patterns), deep (objects) (default %(default)s)",
    )
    group.add_argument(
        "--layers",
        type=_layer_weights,
        metavar="LAYER=W,...",
        help="layers and their weights, e.g. mixed4=1,mixed5=1.5; overrides --preset (`reverie layers` lists them)",
    )
    group.add_argument(
        "--channels",
        type=_channels,
        action="append",
        default=[],
        metavar="LAYER:C,...",
        help="dream only these channels of a layer, e.g. mixed4:12,40; repeatable",
    )
    group.add_argument(
        "--octaves",
        type=int,
        default=defaults.octaves,
        help=f"number of scales, smallest first ({_range('octaves')}; default %(default)s)",
    )
    group.add_argument(
        "--octave-scale",
        type=float,
        default=defaults.octave_scale,
        help=f"size ratio between octaves ({_range('octave_scale')}; default %(default)s)",
    )
    group.add_argument(
        "--steps",
        type=int,
        default=defaults.steps,
        help=f"gradient steps per octave ({_range('steps')}; default %(default)s)",
    )
    group.add_argument(
        "--step-size",
        type=float,
        default=defaults.step_size,
        help=f"gradient ascent step ({_range('step_size')}; default %(default)s)",
    )
    group.add_argument(
        "--max-loss",
        type=_max_loss,
        default=defaults.max_loss,
        help="stop an octave once the objective passes this ('none' never stops; default %(default)s)",
    )
    group.add_argument(
        "--jitter",
        type=int,
        default=defaults.jitter,
        help=f"random shift in pixels before each step, undone after ({_range('jitter')}; default %(default)s)",
    )
    group.add_argument(
        "--normalization",
        choices=NORMALIZATIONS,
        default=defaults.normalization,
        help="gradient normalisation: mean_abs (Keras example), std (TensorFlow tutorial) or laplacian (the "
        "DeepDream notebook's Laplacian pyramid: smoother, less noisy)",
    )
    group.add_argument(
        "--lap-levels",
        type=int,
        default=defaults.lap_levels,
        help=f"frequency bands of --normalization laplacian ({_range('lap_levels')}; default %(default)s)",
    )
    group.add_argument(
        "--precision",
        choices=PRECISIONS,
        default=defaults.precision,
        help="arithmetic of the model: auto (bfloat16 where measured faster: CPUs with AVX-512 BF16 or AMX, "
        "GPUs on JAX; else float32), float32 or bfloat16 (default %(default)s)",
    )
    group.add_argument(
        "--no-detail",
        dest="detail_reinjection",
        action="store_false",
        help="do not re-inject the detail lost when shrinking between octaves",
    )
    group.add_argument(
        "--keep-colors",
        dest="keep_colors",
        action="store_true",
        help="keep the image's colours: the dream changes lightness only (chroma from the source, in CIELAB)",
    )
    group.add_argument(
        "--seed",
        type=int,
        default=None,
        help=f"random seed ({_range('seed')}); the same seed, image and options give the same dream",
    )
    group.add_argument(
        "--tile-size",
        type=int,
        default=defaults.tile_size,
        help=f"largest piece sent through the model at once, bounding memory ({_range('tile_size')}; "
        "default %(default)s)",
    )
    group.add_argument(
        "--tile-overlap",
        type=int,
        default=defaults.tile_overlap,
        help="overlap between tiles, blended so no seam shows (default %(default)s; on JAX, whose tiles are "
        "fixed, tiles do not overlap and the roll moves their edges instead)",
    )


def params_from_args(args: argparse.Namespace, model: str) -> DreamParams:
    """The validated DreamParams the options describe, for ``model`` (the one chosen with the server)."""
    return DreamParams(
        model=get_spec(model).name,
        preset=args.preset,
        layers=args.layers,
        channels=tuple(dict(args.channels).items()),
        octaves=args.octaves,
        octave_scale=args.octave_scale,
        steps=args.steps,
        step_size=args.step_size,
        max_loss=args.max_loss,
        jitter=args.jitter,
        normalization=args.normalization,
        detail_reinjection=args.detail_reinjection,
        seed=args.seed,
        tile_size=args.tile_size,
        tile_overlap=args.tile_overlap,
        precision=args.precision,
        keep_colors=args.keep_colors,
        lap_levels=args.lap_levels,
    )


def _run_dream(args: argparse.Namespace) -> int:
    from reverie.batch import is_batch, outputs
    from reverie.dreaming import dream_file, dreaming_at

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
        if batch:
            from reverie.batch import dream_files

            options = client_options(config.keys)
            return dream_files(args.input, args.output, target, params, guide, not args.quiet, options)
        (source,) = args.input
        report = dream_file(source, args.output, dreaming_at(target, params, guide), not args.quiet)
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
    print(f"{spec.name}: {spec.description}")
    # Output sizes depend on the architecture only: random weights need no download.
    extractor = load_model(spec.name, RANDOM).extractor(spec.dream_layers)
    shapes = extractor.compute_output_shape((1, LAYERS_SIDE, LAYERS_SIDE, 3))
    print(f"layers (output height × width × channels for a {LAYERS_SIDE}×{LAYERS_SIDE} picture):")
    for name, shape in zip(spec.dream_layers, shapes, strict=True):
        print(f"  {name}: {shape[1]}×{shape[2]}×{shape[3]}")
    for name, layers in spec.presets.items():
        print(f"preset {name}: " + ", ".join(f"{layer}={weight:g}" for layer, weight in layers.items()))
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
    add_dream_options(dream)
    dream.set_defaults(func=_run_dream)

    layers = commands.add_parser(
        "layers", help="list a model's dream layers (with their output size at 512×512) and presets"
    )
    layers.add_argument("--model", default=DreamParams().model, help=f"one of: {', '.join(MODELS)}")
    layers.set_defaults(func=_run_layers)
