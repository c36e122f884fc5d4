"""Side-by-side pictures and figures for the creative controls, with MobileNet's real ImageNet weights.

Usage: KERAS_HOME=DIR python tests/bench/side_by_side.py laplacian|guide [--out docs/NAME.jpg]

laplacian: the sample photo dreamed at one step size with mean-abs and with Laplacian-pyramid normalisation;
prints the energy of the change and of its finest pyramid band (its high frequencies) for each.
The weights must be in the Keras cache: DIR/models/mobilenet_2_5_224_tf_no_top.h5.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image

from reverie.engine import DreamParams, dream, load_model
from reverie.engine.laplacian import pyramid

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "samples" / "astronaut.jpg"
PARAMS = DreamParams(model="mobilenet", step_size=0.02, steps=20, seed=42, max_loss=None)


def load(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"), np.float32) / 255


def save_row(images: list[np.ndarray], out: Path) -> None:
    row = np.concatenate(images, axis=1)
    Image.fromarray(np.rint(row * 255).astype(np.uint8)).save(out, quality=90)
    print(f"wrote {out}")


def energies(change: np.ndarray) -> tuple[float, float]:
    """Mean squared change, and that of its finest pyramid band (in 8-bit levels squared)."""
    scaled = change * 255
    return float(np.square(scaled).mean()), float(np.square(pyramid(scaled, 1)[0]).mean())


def laplacian(out: Path) -> None:
    model = load_model("mobilenet", "imagenet")
    source = load(SAMPLE)
    results = [source]
    for normalization in ("mean_abs", "laplacian"):
        image = dream(source, PARAMS.replace(normalization=normalization), model).image
        total, high = energies(image - source)
        print(f"{normalization:9}: change energy {total:.1f}, finest band {high:.1f} ({high / total:.0%})")
        results.append(image)
    save_row(results, out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("laplacian",))
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    out = args.out or REPO / "docs" / f"{args.what}.jpg"
    {"laplacian": laplacian}[args.what](out)


if __name__ == "__main__":
    main()
