"""Flicker of a dreamed clip: each frame dreamed alone, against each frame started from the previous dream
carried along the optical flow (``reverie.imaging.carried``).

Usage: python tests/bench/frames_flicker.py [--frames 24] [--size 256] [--keep-colors] [--strip docs/frames-strip.jpg]

The clip is a moving crop of the bundled public-domain photo (samples/astronaut.jpg): a window drifting right
and down while it slowly zooms in, so every frame holds real motion (translation and scale) and new picture
enters at its edges. Both ways dream with MobileNet's real weights (shipped in the package) and one seed.
Flicker is the mean absolute difference, in 8-bit levels, between each result and the previous result warped
by the flow between their source frames, over the pixels where that flow is reliable (the forward-backward
check); printed for both ways with their ratio and times, beside each way's dream strength (mean |result −
source|), so a lower flicker cannot hide a weaker dream. Carried frames dream as ``reverie frames`` dreams them
(its ``--frame-steps`` and ``--frame-octaves``). ``--strip`` writes every few frames of both ways as one JPEG
(top row alone, bottom row carried).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
from PIL import Image

from reverie.cli.frames import FRAME_OCTAVES, FRAME_STEPS
from reverie.engine import DreamParams, dream, load_model
from reverie.imaging.carried import CARRY, carried_start
from reverie.imaging.motion import motion

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "astronaut.jpg"


def clip(frames: int, size: int) -> list[np.ndarray]:
    """``frames`` crops of the sample, ``size`` pixels square: the window moves 3 px right and 2 px down a frame
    (in the photo's pixels) and shrinks 0.4 % a frame, resampled to ``size`` (a zoom in)."""
    photo = Image.open(SAMPLE).convert("RGB")
    out = []
    for index in range(frames):
        side = 300 * (1 - 0.004 * index)
        left, top = 60 + 3 * index, 40 + 2 * index
        box = (left, top, left + side, top + side)
        out.append(np.asarray(photo.resize((size, size), Image.Resampling.BICUBIC, box=box), np.float32) / 255)
    return out


def flicker(sources: list[np.ndarray], results: list[np.ndarray]) -> float:
    """Mean |result − previous result warped by the source flow| in 8-bit levels, over reliable pixels."""
    total, count = 0.0, 0
    for index in range(1, len(results)):
        moved = motion(sources[index - 1], sources[index])
        difference = np.abs(results[index] - moved.carried(results[index - 1])).mean(axis=2)[moved.mask]
        total, count = total + float(difference.sum()), count + difference.size
    return 255 * total / count


def strip(rows: list[list[np.ndarray]], path: str, every: int) -> None:
    """Every ``every``-th frame of each row, side by side, rows stacked, as a JPEG."""
    picked = [np.concatenate(row[::every], axis=1) for row in rows]
    pixels = np.rint(np.clip(np.concatenate(picked, axis=0), 0, 1) * 255).astype(np.uint8)
    Image.fromarray(pixels).save(path, quality=85)


def strength(sources: list[np.ndarray], results: list[np.ndarray]) -> float:
    """How far the dream took the frames from their sources: mean |result − source| in 8-bit levels."""
    return 255 * float(
        np.mean([np.abs(result - source).mean() for result, source in zip(results, sources, strict=True)])
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=24)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--steps", type=int, default=10, help="steps per octave of the first frame, and alone")
    parser.add_argument("--frame-steps", type=int, default=FRAME_STEPS, help="steps of each carried frame")
    parser.add_argument("--frame-octaves", type=int, default=FRAME_OCTAVES, help="octaves of each carried frame")
    parser.add_argument("--carry", type=float, default=CARRY, help="how much of the carried dream a frame starts from")
    parser.add_argument("--keep-colors", action="store_true")
    parser.add_argument("--strip", metavar="JPEG", help="write every few frames of both ways as one JPEG")
    parser.add_argument("--every", type=int, default=5, help="every how many frames the strip shows")
    args = parser.parse_args()
    sources = clip(args.frames, args.size)
    model = load_model("mobilenet", "imagenet")
    params = DreamParams(model="mobilenet", steps=args.steps, seed=7, max_loss=None, keep_colors=args.keep_colors)
    later = params.replace(steps=args.frame_steps, octaves=args.frame_octaves)
    dream(sources[0], params, model)  # compiled before either way is timed
    dream(sources[0], later, model)

    started = time.perf_counter()
    alone = [dream(frame, params, model).image for frame in sources]
    alone_seconds = time.perf_counter() - started

    started = time.perf_counter()
    carried = [dream(sources[0], params, model).image]
    trusted = []
    for index in range(1, len(sources)):
        start, mask = carried_start(sources[index], sources[index - 1], carried[-1], args.carry)
        trusted.append(mask.mean())
        carried.append(dream(start, later, model).image)
    carried_seconds = time.perf_counter() - started

    plain, flowed = flicker(sources, alone), flicker(sources, carried)
    print(
        f"clip: {args.frames} frames of {args.size}x{args.size} from {SAMPLE.name}; MobileNet (real weights), "
        f"{args.steps} steps x 3 octaves alone and first; carried frames {args.frame_steps} steps x "
        f"{args.frame_octaves} octave(s), carry {args.carry:g}; keep colours {'on' if args.keep_colors else 'off'}"
    )
    print(f"flow reliable on {100 * np.mean(trusted):.1f} % of pixels on average")
    print(f"the sources' own flicker (the warp's floor): {flicker(sources, sources):.2f} levels")
    for name, results, seconds, value in (
        ("each frame alone", alone, alone_seconds, plain),
        ("carried by the flow", carried, carried_seconds, flowed),
    ):
        print(
            f"{name:>20}: flicker {value:5.2f} levels, dream strength {strength(sources, results):5.2f} levels, "
            f"{seconds:5.1f} s ({1000 * seconds / len(sources):.0f} ms a frame)"
        )
    print(f"flicker {plain / flowed:.2f}x lower with the flow; load average {os.getloadavg()[0]:.2f}")
    if args.strip:
        strip([alone, carried], args.strip, args.every)
        print(f"wrote {args.strip}")


if __name__ == "__main__":
    main()
