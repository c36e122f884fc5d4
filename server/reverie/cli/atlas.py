"""``reverie atlas``: a contact sheet of what each channel of a layer dreams of."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from tqdm import tqdm

from reverie.atlas.render import AtlasSettings
from reverie.config import load_config
from reverie.engine.registry import MODELS

# No layer of a model Reverie dreams with has more channels; a larger range is a typing error, not a sheet.
MOST_CHANNELS = 65535


def parse_channels(text: str) -> tuple[int, ...]:
    """``0-63``, ``12``, or a list of both, ``0-7,12,40-43``: the channels in the order given, each once."""
    channels: dict[int, None] = {}
    for part in (part.strip() for part in text.split(",")):
        first, dash, last = part.partition("-")
        try:
            low, high = int(first), int(last) if dash else int(first)
        except ValueError:
            raise argparse.ArgumentTypeError(f"channels must look like 0-63 or 0-7,12,40; got {text!r}") from None
        if low < 0 or high < low or high > MOST_CHANNELS:
            raise argparse.ArgumentTypeError(
                f"{part!r} is not a range of channel numbers (low-high, from 0 to {MOST_CHANNELS})"
            )
        channels.update(dict.fromkeys(range(low, high + 1)))
    return tuple(channels)


def _columns(text: str) -> int:
    try:
        columns = int(text)
    except ValueError:
        columns = 0
    if columns < 1:
        raise argparse.ArgumentTypeError(f"columns must be a whole number, 1 or more; got {text!r}")
    return columns


def _run_atlas(args: argparse.Namespace) -> int:
    from reverie.atlas.sheets import make_atlas
    from reverie.imaging.images import output_format, write_image

    output_format(args.output)  # a name that cannot be written fails before any work
    config = load_config()
    settings = AtlasSettings(size=args.size, steps=args.steps, octaves=args.octaves, seed=args.seed)
    with tqdm(unit="channel", disable=args.quiet or not sys.stderr.isatty(), leave=False) as bar:

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        atlas = make_atlas(
            args.model or config.model,
            args.weights or config.weights,
            args.layer,
            args.channels,
            settings,
            args.columns,
            progress,
        )
    for note in write_image(atlas.sheet, args.output):
        print(f"reverie: note: {note}", file=sys.stderr)
    height, width = atlas.sheet.shape[:2]
    cached = len(set(atlas.channels)) - atlas.dreamed
    print(
        f"wrote {args.output} ({width}×{height}): {len(atlas.channels)} channels of {args.layer}, "
        f"{atlas.dreamed} dreamed and {cached} from the cache, in {atlas.seconds:.1f} s"
    )
    return 0


def register(commands: Any) -> None:
    atlas = commands.add_parser(
        "atlas",
        help="a contact sheet of what each channel of a layer dreams of",
        description="Dream each channel of LAYER from noise (cached per model, weights and settings in the user "
        "cache) and lay the tiles out on one sheet, numbered.",
    )
    atlas.add_argument("--layer", required=True, help="the layer (`reverie layers` lists them)")
    atlas.add_argument(
        "--channels", type=parse_channels, metavar="A-B,...", help="channels to show, e.g. 0-63 (default: all)"
    )
    atlas.add_argument(
        "--model", help=f"one of: {', '.join(MODELS)} (default: the config's [server] model, else inception_v3)"
    )
    atlas.add_argument(
        "--weights", help="imagenet, random or an .h5 file (default: the config's [server] weights, else imagenet)"
    )
    atlas.add_argument("-o", "--output", required=True, metavar="SHEET", help="the sheet: .png, .jpg, .webp or .tif")
    defaults = AtlasSettings()
    atlas.add_argument(
        "--size", type=int, default=defaults.size, help="each tile's side in pixels (default %(default)s)"
    )
    atlas.add_argument("--columns", type=_columns, help="tiles per row (default: as near a square as it gets)")
    atlas.add_argument("--octaves", type=int, default=defaults.octaves, help="scales per tile (default %(default)s)")
    atlas.add_argument("--steps", type=int, default=defaults.steps, help="steps per octave (default %(default)s)")
    atlas.add_argument("--seed", type=int, default=defaults.seed, help="the noise's seed (default %(default)s)")
    atlas.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    atlas.set_defaults(func=_run_atlas)
