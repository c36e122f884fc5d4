"""``reverie frames``: a clip dreamed frame by frame, each frame after the first started from the previous
frame's dream carried along the motion, so the dream moves with the picture instead of flickering."""

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
from reverie.imaging.clips import open_clip
from reverie.imaging.images import read_image, write_image
from reverie.imaging.zoom import animation_format, save_animation
from reverie_wire.errors import BadRequest
from reverie_wire.ranges import MAX_SEED

ANIMATION = "animation.webp"
# A carried frame needs only a touch of dreaming: its patterns come with the previous dream (see
# docs/frames.md for what more steps or octaves do to the flicker).
FRAME_STEPS, FRAME_OCTAVES = 2, 1


def _folder(args: argparse.Namespace) -> Path:
    """The frames' folder, checked before any dream."""
    folder = Path(args.output)
    if folder.exists() and not folder.is_dir():
        raise BadRequest(f"-o {folder} is a file; name a folder for the dreamed frames")
    return folder


def _animation(args: argparse.Namespace, folder: Path) -> Path:
    """The animation's path, checked once the frames' folder exists."""
    animation = Path(args.animation) if args.animation is not None else folder / ANIMATION
    animation_format(animation)
    return animation


def _run_frames(args: argparse.Namespace) -> int:
    from reverie.cli.dreaming import dreaming_at

    started = time.perf_counter()
    clip = open_clip(args.input)
    folder = _folder(args)
    guide = None if args.guide is None else read_image(args.guide).pixels
    with opened(args, load_config()) as target:
        params = params_from_args(args, target.model)
        seed = params.seed if params.seed is not None else secrets.randbelow(MAX_SEED + 1)
        first = params.replace(seed=seed)  # one seed for every frame: the same jitter, the same patterns
        later = first.replace(steps=args.frame_steps, octaves=args.frame_octaves)
        folder.mkdir(parents=True, exist_ok=True)
        animation = _animation(args, folder)
        show = not args.quiet and sys.stderr.isatty()
        dreams: list[np.ndarray] = []
        previous = None
        for index, frame in enumerate(tqdm(clip.frames(), total=clip.count, unit="frame", disable=not show)):
            if previous is not None and previous[0].shape != frame.shape:
                raise BadRequest(
                    f"frame {index + 1} of {args.input} is {frame.shape[1]}x{frame.shape[0]} with {frame.shape[2]} "
                    f"channels, but the frames before it are {previous[0].shape[1]}x{previous[0].shape[0]} with "
                    f"{previous[0].shape[2]}: a clip's frames are all one size and layout"
                )
            carried = previous if not args.alone else None
            dreamer = dreaming_at(target, first if carried is None else later, guide, previous=carried)
            dreamed, _, _ = dreamer(frame, _no_progress)
            write_image(dreamed, folder / f"frame_{index + 1:04d}.png")
            dreams.append(dreamed)
            previous = (frame, dreamed)
    save_animation(dreams, animation, clip.frame_ms)
    height, width = dreams[0].shape[:2]
    print(
        f"wrote {len(dreams)} frames ({width}×{height}) to {folder} and {animation} in "
        f"{time.perf_counter() - started:.1f} s {target.where}; seed {seed}"
    )
    return 0


def _no_progress(_event: Any) -> None:
    """Progress is shown per frame, not per step."""


def register(commands: Any) -> None:
    frames = commands.add_parser(
        "frames",
        help="dream a clip without flicker (folder of frames, animated GIF/WebP, video)",
        description="Dream every frame of IN into the folder OUT (frame_0001.png, …) and an animated WebP. "
        "Each frame after the first starts from the previous frame's dream, moved along the optical flow "
        "between the two source frames where that flow is reliable, and is dreamed a little more, so the "
        "patterns follow the picture instead of flickering. Every frame dreams with one seed. Through a running "
        "server (or a cluster) each frame is one job.",
    )
    frames.add_argument(
        "input",
        metavar="IN",
        help="a folder of PNG, JPEG, TIFF or WebP frames (in the order of their names), an animated GIF or "
        "WebP, or a video file (with the video extra: pip install 'reverie[video]')",
    )
    frames.add_argument("-o", "--output", required=True, metavar="OUT", help="folder for the dreamed frames")
    frames.add_argument("--animation", metavar="FILE", help=f"the animated .webp or .gif (default OUT/{ANIMATION})")
    frames.add_argument(
        "--frame-steps",
        type=int,
        default=FRAME_STEPS,
        metavar="S",
        help="steps per octave for every frame after the first (default %(default)s)",
    )
    frames.add_argument(
        "--frame-octaves",
        type=int,
        default=FRAME_OCTAVES,
        metavar="N",
        help="octaves for every frame after the first (default %(default)s: the full size only)",
    )
    frames.add_argument(
        "--alone", action="store_true", help="dream each frame on its own, as reverie dream would (it flickers)"
    )
    frames.add_argument("--guide", metavar="FILE", help="guide image for every frame (as reverie dream --guide)")
    frames.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    where = frames.add_mutually_exclusive_group()
    where.add_argument("--server", metavar="ENDPOINT", help="dream on the server at ENDPOINT (as reverie dream)")
    where.add_argument("--local", action="store_true", help="always dream in this process, even if a server runs")
    add_dream_options(frames)
    frames.set_defaults(func=_run_frames)
