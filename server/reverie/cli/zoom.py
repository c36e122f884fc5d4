"""``reverie zoom``: an "infinite zoom" animation, each frame a dream of the previous one zoomed in."""

from __future__ import annotations

import argparse
import secrets
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from reverie.cli.dream import add_dream_options, params_from_args
from reverie.cli.target import opened
from reverie.config import load_config
from reverie.imaging.images import read_image, read_strength, write_image
from reverie.imaging.zoom import animation_format, save_animation, zoomed
from reverie_wire.errors import BadRequest
from reverie_wire.ranges import MAX_SEED, ZOOM_RANGES

MAX_FRAMES = 10_000


def _check(args: argparse.Namespace) -> None:
    """Everything that can be wrong with the options, before any dream."""
    animation_format(args.output)
    if not 1 <= args.frames <= MAX_FRAMES:
        raise BadRequest(f"--frames must be between 1 and {MAX_FRAMES}, got {args.frames}")
    low, high = ZOOM_RANGES["zoom"]
    if not low <= args.zoom <= high:
        raise BadRequest(f"--zoom must be between {low:g} and {high:g} (1.05 zooms in 5 % a frame), got {args.zoom:g}")
    low, high = ZOOM_RANGES["rotate"]
    if not low <= args.rotate <= high:
        raise BadRequest(f"--rotate must be between {low:g} and {high:g} degrees, got {args.rotate:g}")
    if args.frames_dir is not None:
        folder = Path(args.frames_dir)
        if folder.exists() and not folder.is_dir():
            raise BadRequest(f"--frames-dir {folder} is a file; name a folder for the PNG frames")


def _run_zoom(args: argparse.Namespace) -> int:
    from reverie.cli.dreaming import dreaming_at

    started = time.perf_counter()
    _check(args)
    source = read_image(args.input).pixels
    guide = None if args.guide is None else read_image(args.guide).pixels
    strength = None if args.strength is None else read_strength(args.strength)
    with opened(args, load_config()) as target:
        params = params_from_args(args, target.model)
        later_steps = params.steps if args.frame_steps is None else args.frame_steps
        params.replace(steps=later_steps)  # a bad --frame-steps fails here, before any dream
        seed = params.seed if params.seed is not None else secrets.randbelow(MAX_SEED + 1)
        if args.frames_dir is not None:
            Path(args.frames_dir).mkdir(parents=True, exist_ok=True)
        frames: list[np.ndarray] = []
        show = not args.quiet and sys.stderr.isatty()
        for index in tqdm(range(args.frames), unit="frame", disable=not show, leave=False):
            frame_params = params.replace(seed=(seed + index) % (MAX_SEED + 1))
            if index > 0:
                frame_params = frame_params.replace(steps=later_steps)
            current = source if index == 0 else zoomed(frames[-1], args.zoom, args.rotate)
            dreamed, _, _ = dreaming_at(target, frame_params, guide, strength)(current, _no_progress)
            frames.append(dreamed)
            if args.frames_dir is not None:
                write_image(dreamed, Path(args.frames_dir) / f"frame_{index + 1:04d}.png")
    save_animation(frames, args.output)
    height, width = source.shape[:2]
    print(
        f"wrote {args.output} ({args.frames} frames, {width}×{height}) in {time.perf_counter() - started:.1f} s "
        f"{target.where}; seed {seed}"
    )
    return 0


def _no_progress(_event: Any) -> None:
    """Progress is shown per frame, not per step."""


def register(commands: Any) -> None:
    zoom = commands.add_parser(
        "zoom",
        help="an infinite-zoom animation (.webp or .gif)",
        description="Dream IN, then again and again, each frame zoomed into the last; write an animated OUT. "
        "Frame i dreams with seed + i, so one seed gives one animation. Through a running server each frame "
        "is one job.",
    )
    zoom.add_argument("input", metavar="IN", help="PNG, JPEG, TIFF or WebP image: the first frame dreams it")
    zoom.add_argument("-o", "--output", required=True, metavar="OUT", help="animated .webp or .gif")
    zoom.add_argument("--frames", type=int, default=30, help="frames in the animation (default %(default)s)")
    zoom.add_argument("--zoom", type=float, default=1.05, help="enlargement per frame (default %(default)s)")
    zoom.add_argument("--rotate", type=float, default=0.0, help="degrees turned per frame, anticlockwise")
    zoom.add_argument(
        "--frame-steps",
        type=int,
        metavar="S",
        help="steps per octave for every frame after the first (default: --steps)",
    )
    zoom.add_argument("--frames-dir", metavar="DIR", help="also write each frame as DIR/frame_0001.png, …")
    zoom.add_argument("--guide", metavar="FILE", help="guide image for every frame (as reverie dream --guide)")
    zoom.add_argument(
        "--strength",
        metavar="FILE",
        help="strength map for every frame, where the frame lies, not zoomed with it (as reverie dream --strength)",
    )
    zoom.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    where = zoom.add_mutually_exclusive_group()
    where.add_argument("--server", metavar="ENDPOINT", help="dream on the server at ENDPOINT (as reverie dream)")
    where.add_argument("--local", action="store_true", help="always dream in this process, even if a server runs")
    add_dream_options(zoom)
    zoom.set_defaults(func=_run_zoom)
