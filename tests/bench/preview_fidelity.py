"""How well the plug-in's preview predicts the full run: change-correlation on the preview's crop.

Usage: KERAS_HOME=DIR python tests/bench/preview_fidelity.py [PHOTO] [--size WxH] [--context N ...]
       [--max-loss X (0: none)] [--weights imagenet|random] [--pattern-size fine|medium|large]

The full run dreams the whole picture (the plug-in sends all of it when nothing is selected). Each preview
is compared with the full run on the crop the preview shows: the Pearson correlation of (result − source)
between the two. "former" is the preview before it dreamed at full scale: the picture's central 1024² crop
shrunk to 512 on its long side, a quarter of the steps, scaled back up to compare. "crop+N" is today's
preview with N pixels of context around its (at most 512²) crop. Settings are the plug-in's defaults. The
reference line dreams the picture shifted by 2 pixels: how close two dreams of one picture can come. With a
pattern size, each crop is dreamed at the shrink the whole picture gets, as the plug-in's preview is
(``geometry.preview_params``).
The real MobileNet ImageNet weights must be in the Keras cache: DIR/models/mobilenet_2_5_224_tf_no_top.h5.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "plugin"))

from reverie.engine import DreamParams, dream, load_model  # noqa: E402
from reverie_plugin.geometry import Rect, preview_crop, preview_params, with_context  # noqa: E402

DEFAULTS = DreamParams(model="mobilenet", octaves=3, octave_scale=1.4, steps=20, step_size=0.01, jitter=32)
FORMER_CROP, FORMER_LONG_SIDE, FORMER_STEP_DIVISOR = 1024, 512, 4


def cut(image: np.ndarray, rect: Rect) -> np.ndarray:
    return image[rect.y : rect.y + rect.height, rect.x : rect.x + rect.width]


def resized(image: np.ndarray, width: int, height: int) -> np.ndarray:
    channels = [Image.fromarray(image[..., c]).resize((width, height), Image.Resampling.BICUBIC) for c in range(3)]
    return np.clip(np.stack([np.asarray(c) for c in channels], axis=-1), 0.0, 1.0)


def change_correlation(preview: np.ndarray, full: np.ndarray, source: np.ndarray) -> float:
    return float(np.corrcoef((preview - source).ravel(), (full - source).ravel())[0, 1])


def former_preview(source: np.ndarray, params: DreamParams, model) -> tuple[np.ndarray, Rect]:
    """The former preview: a central crop of at most 1024², shrunk to 512 long side, a quarter of the steps."""
    height, width = source.shape[:2]
    region_w, region_h = min(width, FORMER_CROP), min(height, FORMER_CROP)
    region = Rect((width - region_w) // 2, (height - region_h) // 2, region_w, region_h)
    scale = min(1.0, FORMER_LONG_SIDE / max(region_w, region_h))
    small = resized(cut(source, region), max(1, round(region_w * scale)), max(1, round(region_h * scale)))
    steps = max(1, -(-params.steps // FORMER_STEP_DIVISOR))
    dreamed = dream(small, params.replace(steps=steps), model).image
    return resized(dreamed, region_w, region_h), region


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("photo", nargs="?", default=str(REPO / "samples" / "astronaut.jpg"))
    parser.add_argument("--size", help="resize the photo to WxH first (e.g. 1024x1024)")
    parser.add_argument("--context", type=int, nargs="+", default=[0, 64, 128, 256])
    parser.add_argument("--seed", type=int, default=701028867)
    parser.add_argument("--weights", default="imagenet")
    parser.add_argument("--max-loss", type=float, default=DEFAULTS.max_loss, help="0: no early stop")
    parser.add_argument("--pattern-size", default=DEFAULTS.pattern_size, choices=("fine", "medium", "large"))
    args = parser.parse_args(argv)
    photo = Image.open(args.photo).convert("RGB")
    if args.size:
        photo = photo.resize(tuple(int(side) for side in args.size.lower().split("x")), Image.Resampling.LANCZOS)
    source = np.asarray(photo, np.float32) / 255.0
    height, width = source.shape[:2]
    params = DEFAULTS.replace(seed=args.seed, max_loss=args.max_loss or None, pattern_size=args.pattern_size)
    model = load_model(params.model, args.weights)
    region = Rect(0, 0, width, height)
    crop = preview_crop(region, None)
    print(f"{Path(args.photo).name} at {width}×{height}, preview crop {crop}, {params}")

    started = time.perf_counter()
    result = dream(source, params, model)
    full = result.image
    print(f"full run: {time.perf_counter() - started:.1f} s, {len(result.losses)} steps")

    # The reference: the full run itself, on the picture shifted by two pixels. DeepDream amplifies small
    # differences, so this is about as close as a dream of the same picture can come to the full run.
    shifted = np.roll(dream(np.roll(source, (2, 2), axis=(0, 1)), params, model).image, (-2, -2), axis=(0, 1))
    score = change_correlation(cut(shifted, crop), cut(full, crop), cut(source, crop))
    print(f"reference (full run on the picture shifted 2 px): change-correlation {score:.3f} on the crop")

    started = time.perf_counter()
    former, former_region = former_preview(source, params, model)
    seconds = time.perf_counter() - started
    inside = Rect(crop.x - former_region.x, crop.y - former_region.y, crop.width, crop.height)
    score = change_correlation(cut(former, inside), cut(full, crop), cut(source, crop))
    print(f"former preview: change-correlation {score:.3f} on the crop ({seconds:.1f} s)")

    scale = preview_params({"pattern_size": params.pattern_size}, region).get("pattern_scale")
    for margin in args.context:
        sent = with_context(crop, region, margin)
        started = time.perf_counter()
        dreamed = dream(cut(source, sent), params.replace(pattern_scale=scale), model).image
        seconds = time.perf_counter() - started
        shown = cut(dreamed, Rect(crop.x - sent.x, crop.y - sent.y, crop.width, crop.height))
        score = change_correlation(shown, cut(full, crop), cut(source, crop))
        print(f"crop+{margin}: change-correlation {score:.3f} ({sent.width}×{sent.height} sent, {seconds:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
